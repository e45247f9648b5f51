import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../config.js';

export type MediaStorage = 'POSTGRES' | 'S3';

/**
 * The S3 SDK, loaded on first use: most installations keep files in Postgres, and the SDK takes
 * about 0.3 s to load, which every start would pay (issue 16's start-up figures).
 */
type S3Sdk = typeof import('@aws-sdk/client-s3');
let s3Sdk: Promise<S3Sdk> | null = null;
function loadS3Sdk(): Promise<S3Sdk> {
  s3Sdk ??= import('@aws-sdk/client-s3');
  return s3Sdk;
}

/**
 * Where file bytes live. Postgres (bytea, in the media_files row) by default, so instances stay
 * stateless and the embedded database needs nothing; an S3-compatible bucket when MEDIA_S3_* is
 * set. Each row records its storage, so files written before a switch stay readable (from S3
 * only while it is configured). One per running app: AppDeps.mediaStore.
 */
export class MediaStore {
  private s3: S3Client | null = null;

  constructor(private readonly config: Config['media']) {}

  /** Where new files go. */
  get storage(): MediaStorage {
    return this.config.s3 ? 'S3' : 'POSTGRES';
  }

  /** Writes the bytes outside the database when the storage is S3; the row keeps them otherwise. */
  async putExternal(tenantId: string, fileId: string, bytes: Buffer, contentType: string): Promise<void> {
    const s3 = this.config.s3;
    if (!s3) return;
    const { PutObjectCommand } = await loadS3Sdk();
    await (await this.client()).send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: objectKey(tenantId, fileId), Body: bytes, ContentType: contentType }),
    );
  }

  /** The bytes of a stored file; null when its object is gone (or S3 is no longer configured). */
  async read(file: { tenantId: string; id: string; storage: MediaStorage; bytes: Buffer | null }): Promise<Buffer | null> {
    if (file.storage === 'POSTGRES') return file.bytes;
    const s3 = this.config.s3;
    if (!s3) return null;
    try {
      const { GetObjectCommand } = await loadS3Sdk();
      const out = await (await this.client()).send(new GetObjectCommand({ Bucket: s3.bucket, Key: objectKey(file.tenantId, file.id) }));
      if (!out.Body) return null;
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return null;
      throw err;
    }
  }

  /** Best effort: an object left behind by a failed insert is harmless, only storage. */
  async deleteExternal(tenantId: string, fileId: string): Promise<void> {
    const s3 = this.config.s3;
    if (!s3) return;
    const { DeleteObjectCommand } = await loadS3Sdk();
    await (await this.client()).send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: objectKey(tenantId, fileId) }));
  }

  close(): void {
    this.s3?.destroy();
    this.s3 = null;
  }

  private async client(): Promise<S3Client> {
    const s3 = this.config.s3!;
    const { S3Client } = await loadS3Sdk();
    this.s3 ??= new S3Client({
      region: s3.region,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      forcePathStyle: s3.forcePathStyle,
      ...(s3.accessKeyId && s3.secretAccessKey
        ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
        : {}),
    });
    return this.s3;
  }
}

function objectKey(tenantId: string, fileId: string): string {
  return `${tenantId}/${fileId}`;
}
