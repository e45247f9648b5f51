import { Kind, getArgumentValues, getNamedType, isObjectType, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields selected at `path` below the field being resolved (through inline
 * fragments and fragment spreads), e.g. `['edges', 'node']` of a connection: what a resolver reads
 * to fetch a relation with its parent rather than after it. Directives (@skip, @include) are not
 * evaluated: a field they may leave out counts as selected, so at worst a row is read for nothing.
 */
export function selectedFieldsAt(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  let sets = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  for (const name of path) {
    sets = sets.flatMap((set) => fieldsOf(set, info).flatMap((field) => (field.name.value === name && field.selectionSet ? [field.selectionSet] : [])));
  }
  return new Set(sets.flatMap((set) => fieldsOf(set, info).map((field) => field.name.value)));
}

/**
 * The arguments of each selection of the field `name` directly below the field being resolved
 * (an alias is a selection of its own), with variables and defaults applied as graphql-js will
 * apply them when it resolves that field: what a resolver reads to fetch a child's rows with its
 * own. Empty when the field is not selected.
 */
export function argumentsOfSelected(info: GraphQLResolveInfo, name: string): Array<Record<string, unknown>> {
  const type = getNamedType(info.returnType);
  const field = isObjectType(type) ? type.getFields()[name] : undefined;
  if (!field) return [];
  return info.fieldNodes
    .flatMap((node) => (node.selectionSet ? fieldsOf(node.selectionSet, info) : []))
    .filter((node) => node.name.value === name)
    .map((node) => getArgumentValues(field, node, info.variableValues));
}

function fieldsOf(set: SelectionSetNode, info: GraphQLResolveInfo, seen = new Set<string>()): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...fieldsOf(selection.selectionSet, info, seen));
    else {
      // A fragment spread (validation has refused cycles; `seen` only skips a repeat).
      const name = selection.name.value;
      const fragment = info.fragments[name];
      if (fragment && !seen.has(name)) {
        seen.add(name);
        fields.push(...fieldsOf(fragment.selectionSet, info, seen));
      }
    }
  }
  return fields;
}
