import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { MediaCopyQueue, MediaCopyRepository } from './media-copy.repository.js';
import { mediaCopyJobs } from './media-copy.schema.js';
import { MediaRepository } from './media.repository.js';

/** A copy job of the FIXTURE inbound message (inserted by setUp), held by FIXTURE.workerId. */
const JOB_ID = 2000;

export default [
  repositoryQueries({
    repository: MediaRepository,
    calls: {
      findInboundMedia: (r) => r.findInboundMedia(FIXTURE.messageId, 0),
    },
  }),
  repositoryQueries({
    repository: MediaCopyQueue,
    create: (db) => new MediaCopyQueue(db, FIXTURE.workerId),
    crossTenant: "the media-copy workers' queue claims due jobs of every tenant; each copy is then written by MediaCopyRepository, bound to the job's tenant",
    setUp: async (db) => {
      await db.insert(mediaCopyJobs).values({ id: JOB_ID, tenantId: FIXTURE.tenantId, messageId: FIXTURE.messageId, mediaIndex: 0, lockedBy: FIXTURE.workerId });
    },
    calls: {
      claim: (r) => r.claim(10, 60),
      complete: (r) => r.complete(JOB_ID),
      reschedule: (r) => r.reschedule(JOB_ID, 30_000, 'Twilio answered 500'),
      releaseHeld: (r) => r.releaseHeld(),
    },
  }),
  repositoryQueries({
    repository: MediaCopyRepository,
    calls: {
      attachCopy: (r) => r.attachCopy(FIXTURE.messageId, 0, FIXTURE.newId),
    },
  }),
];
