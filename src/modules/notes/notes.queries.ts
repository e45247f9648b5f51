import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { NotesRepository } from './notes.repository.js';

const cursor = { ts: '2024-03-01T12:00:00.000000Z', id: FIXTURE.newId };

export default [
  repositoryQueries({
    repository: NotesRepository,
    calls: {
      insert: (r) => r.insert({ conversationId: FIXTURE.conversationId, authorId: FIXTURE.userId, body: 'Called back' }),
      pages: {
        'first pages': (r) => r.pages([FIXTURE.conversationId], 20, null),
        'newer pages': (r) => r.pages([FIXTURE.conversationId], 20, cursor),
      },
    },
  }),
];
