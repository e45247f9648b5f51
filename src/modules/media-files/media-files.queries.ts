import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { MediaFilesRepository } from './media-files.repository.js';
import { mediaFiles } from './media-files.schema.js';

/** A stored file of the FIXTURE tenant (inserted by setUp). */
const FILE_ID = '00000000-0000-4000-8000-0000000a2001';

export default [
  repositoryQueries({
    repository: MediaFilesRepository,
    setUp: async (db) => {
      await db.insert(mediaFiles).values({ id: FILE_ID, tenantId: FIXTURE.tenantId, origin: 'UPLOAD', contentType: 'image/png', size: 3, storage: 'POSTGRES', bytes: Buffer.from('png'), createdBy: FIXTURE.userId });
    },
    calls: {
      insert: (r) =>
        r.insert({ id: FIXTURE.newId, origin: 'INBOUND', contentType: 'image/jpeg', size: 4, storage: 'POSTGRES', bytes: Buffer.from('jpeg'), createdBy: null }),
      findInfos: (r) => r.findInfos([FILE_ID, FIXTURE.newId]),
      findWithBytes: (r) => r.findWithBytes(FILE_ID),
    },
  }),
];
