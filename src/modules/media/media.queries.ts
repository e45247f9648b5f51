import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { MediaRepository } from './media.repository.js';

export default [
  repositoryQueries({
    repository: MediaRepository,
    calls: {
      findInboundMedia: (r) => r.findInboundMedia(FIXTURE.messageId, 0),
    },
  }),
];
