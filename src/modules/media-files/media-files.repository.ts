import { eq, inArray } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { mediaFiles, type MediaFileRow } from './media-files.schema.js';
import type { MediaStorage } from './media-store.js';

export interface NewMediaFile {
  id: string;
  origin: 'UPLOAD' | 'INBOUND';
  contentType: string;
  size: number;
  storage: MediaStorage;
  /** Only for POSTGRES storage. */
  bytes: Buffer | null;
  createdBy: string | null;
}

export type MediaFileInfo = Omit<MediaFileRow, 'bytes'>;

const INFO = {
  id: mediaFiles.id,
  tenantId: mediaFiles.tenantId,
  origin: mediaFiles.origin,
  contentType: mediaFiles.contentType,
  size: mediaFiles.size,
  storage: mediaFiles.storage,
  createdBy: mediaFiles.createdBy,
  createdAt: mediaFiles.createdAt,
};

export class MediaFilesRepository extends TenantRepository {
  async insert(file: NewMediaFile): Promise<MediaFileInfo> {
    const [row] = await this.db
      .insert(mediaFiles)
      .values({ ...file, tenantId: this.tenantId })
      .returning(INFO);
    return row!;
  }

  /** Metadata only (no bytes): what sendMessage checks. */
  async findInfos(ids: readonly string[]): Promise<MediaFileInfo[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select(INFO).from(mediaFiles).where(this.scoped(mediaFiles, inArray(mediaFiles.id, valid)));
  }

  /** With its bytes when they are in Postgres. */
  async findWithBytes(id: string): Promise<MediaFileRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(mediaFiles).where(this.scoped(mediaFiles, eq(mediaFiles.id, id))).limit(1);
    return row;
  }
}
