import {
  GraphQLError,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';

/**
 * What a query costs the server, counted the way it is executed: every field selected is 1, and
 * the selection under a paginated field (one with a `first` argument) counts once per item that
 * page may hold: `first` as given (variables included), else the default page size. So a
 * dashboard's page of 50 conversations with their last 20 messages costs about 50 × 20 × (fields
 * per message) while 100 × 100 × 100 nested pages cost millions. Aliases are counted each time
 * they appear. Lists without `first` (labels, media, teams) are small by construction: 1.
 *
 * graphql-armor's cost rule cannot do this: it runs as a validation rule, before variables are
 * known, and ignores page sizes (it refused ordinary dashboards and let 100-item pages through).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): number {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return 0; // GraphQL itself refuses it
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const vars = variables ?? {};
  // A fragment's cost does not depend on where it is spread (only on its own type condition).
  const fragmentCosts = new Map<string, number>();
  const inProgress = new Set<string>();

  function selectionCost(selectionSet: SelectionSetNode, parent: GraphQLCompositeType): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue; // __typename, introspection
        const field = fieldOf(parent, selection.name.value);
        if (!field) continue; // validation reports it
        let cost = 1;
        if (selection.selectionSet) {
          const type = getNamedType(field.type);
          if (isCompositeType(type)) cost += pageItems(field, selection.arguments ?? [], vars) * selectionCost(selection.selectionSet, type);
        }
        total += cost;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (condition && isCompositeType(condition)) total += selectionCost(selection.selectionSet, condition);
      } else {
        const name = selection.name.value;
        const known = fragmentCosts.get(name);
        if (known !== undefined) {
          total += known;
          continue;
        }
        const fragment = fragments.get(name);
        if (!fragment || inProgress.has(name)) continue; // unknown or cyclic: validation reports it
        const condition = schema.getType(fragment.typeCondition.name.value);
        if (!condition || !isCompositeType(condition)) continue;
        inProgress.add(name);
        const cost = selectionCost(fragment.selectionSet, condition);
        inProgress.delete(name);
        fragmentCosts.set(name, cost);
        total += cost;
      }
    }
    return total;
  }

  return selectionCost(operation.selectionSet, root);
}

function fieldOf(parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

/** Items a paginated field may return: `first` (literal or variable), else the default; 1 for other fields. */
function pageItems(field: GraphQLField<unknown, unknown>, args: readonly { name: { value: string }; value: ValueNode }[], vars: Record<string, unknown>): number {
  if (!field.args.some((a) => a.name === 'first')) return 1;
  const given = args.find((a) => a.name.value === 'first')?.value;
  let first: unknown = null;
  if (given?.kind === Kind.INT) first = Number(given.value);
  else if (given?.kind === Kind.VARIABLE) first = vars[given.name.value];
  // Out-of-range sizes are refused by the resolver with a precise message; cost them at the cap.
  return typeof first === 'number' && Number.isFinite(first) ? Math.min(Math.max(Math.trunc(first), 1), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

/** The error answered for a query over the limit (HTTP 400, like other invalid queries). */
export function queryTooCostlyError(cost: number, maxCost: number): GraphQLError {
  return new GraphQLError(
    `Query cost ${cost} exceeds the maximum of ${maxCost}: ask for smaller pages (first) or fewer nested connections`,
    { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', cost, maxCost, http: { status: 400 } } },
  );
}
