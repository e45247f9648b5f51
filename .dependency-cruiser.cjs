/**
 * Module boundaries (docs/architecture.md). Run with `npm run lint:deps`; test/platform/module-cycles.test.ts
 * runs it in the suite. Feature folders under src/modules/ depend on each other one way only.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle-between-modules',
      comment:
        'Feature folders depend on each other one way (docs/architecture.md). A cycle means a building block ' +
        'belongs lower (src/shared, src/graphql, src/events) or a field resolver belongs to the dependent module.',
      severity: 'error',
      // Folder scope: src/modules/a -> src/modules/b -> src/modules/a is a cycle even when no single file is.
      scope: 'folder',
      from: { path: '^src/modules/[^/]+$' },
      to: { path: '^src/modules/[^/]+$', circular: true },
    },
    {
      name: 'no-file-cycle-in-modules',
      comment: 'No file-level import cycles between the files of the feature folders either.',
      severity: 'error',
      from: { path: '^src/modules/' },
      to: { circular: true },
    },
  ],
  options: {
    // Only the feature folders take part: src/db/schema.ts gathers every module's tables and src/shared
    // holds the app's dependencies, so paths through them are not module cycles.
    includeOnly: '^src/modules/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
