import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { TestServer } from './test-server.js';

/** A valid PNG header (signature + IHDR chunk of a 1×1 image) padded to `size` bytes. */
export function pngBytes(size = 256, fill = 7): Buffer {
  const header = Buffer.from(
    '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c489',
    'hex',
  );
  return Buffer.concat([header, Buffer.alloc(Math.max(0, size - header.length), fill)]);
}

/** A Windows executable's first bytes (MZ … PE), whatever the file is called. */
export function exeBytes(size = 512): Buffer {
  const buf = Buffer.alloc(size, 0);
  buf.write('MZ', 0, 'latin1');
  buf.writeUInt32LE(0x80, 0x3c);
  buf.write('PE\0\0', 0x80, 'latin1');
  return buf;
}

export interface UploadResult {
  status: number;
  body: { id?: string; contentType?: string; size?: number; error?: string };
}

/** POST /media as a browser would: multipart/form-data with one file field. */
export async function upload(
  server: TestServer,
  token: string | null,
  bytes: Buffer,
  fileName = 'photo.png',
  declaredType = 'image/png',
): Promise<UploadResult> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: declaredType }), fileName);
  const res = await fetch(`${server.url}/media`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await res.text();
  let body: UploadResult['body'] = {};
  try {
    body = JSON.parse(text) as UploadResult['body'];
  } catch {
    body = { error: text };
  }
  return { status: res.status, body };
}

/** Our server advertises PUBLIC_URL (localhost:PORT) and listens on 127.0.0.1: fetch the same path there. */
export function onServer(server: TestServer, advertised: string): string {
  const url = new URL(advertised);
  return `${server.url}${url.pathname}${url.search}`;
}

export interface S3Fake {
  endpoint: string;
  bucket: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** s3rver (a real S3-compatible HTTP server) on a random port, with one empty bucket. */
export async function startS3(): Promise<S3Fake> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const bucket = 'media-test';
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const address = (await s3.run()) as { address: string; port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    env: {
      MEDIA_S3_BUCKET: bucket,
      MEDIA_S3_ENDPOINT: endpoint,
      MEDIA_S3_REGION: 'us-east-1',
      MEDIA_S3_ACCESS_KEY_ID: 'S3RVER',
      MEDIA_S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async close() {
      await s3.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
