import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { MediaFilesRepository, type MediaFileInfo } from './media-files.repository.js';

export interface FileToSave {
  origin: 'UPLOAD' | 'INBOUND';
  contentType: string;
  bytes: Buffer;
  createdBy: string | null;
}

/** Saves a file for one tenant: bytes in the configured storage, metadata in media_files. */
export async function saveMediaFile(deps: AppDeps, tenantId: string, file: FileToSave, db: Db = deps.db): Promise<MediaFileInfo> {
  const store = deps.mediaStore;
  const id = randomUUID();
  const storage = store.storage;
  await store.putExternal(tenantId, id, file.bytes, file.contentType);
  try {
    return await new MediaFilesRepository(db, tenantId).insert({
      id,
      origin: file.origin,
      contentType: file.contentType,
      size: file.bytes.length,
      storage,
      bytes: storage === 'POSTGRES' ? file.bytes : null,
      createdBy: file.createdBy,
    });
  } catch (err) {
    await store.deleteExternal(tenantId, id).catch(() => {});
    throw err;
  }
}
