import { fileTypeFromBuffer } from 'file-type';

/**
 * What Twilio accepts for outbound MMS, keyed by the type file-type reads from the bytes, mapped
 * to the Content-Type we serve (Twilio checks it against the file). Images are resized for
 * carriers; the rest is sent as is.
 */
const BY_DETECTED_TYPE: Record<string, string> = {
  'image/jpeg': 'image/jpeg',
  'image/png': 'image/png',
  'image/gif': 'image/gif',
  'image/bmp': 'image/bmp',
  'image/webp': 'image/webp',
  'image/tiff': 'image/tiff',
  'video/mp4': 'video/mp4',
  'video/quicktime': 'video/quicktime',
  'video/webm': 'video/webm',
  'video/3gpp': 'video/3gpp',
  'video/3gpp2': 'video/3gpp2',
  'video/mpeg': 'video/mpeg',
  'audio/mpeg': 'audio/mpeg',
  'audio/mp4': 'audio/mp4',
  'audio/x-m4a': 'audio/mp4',
  'audio/ogg': 'audio/ogg',
  'audio/opus': 'audio/ogg',
  'audio/wav': 'audio/vnd.wave',
  'audio/vnd.wave': 'audio/vnd.wave',
  'audio/amr': 'audio/amr',
  'audio/webm': 'audio/webm',
  'audio/3gpp': 'audio/3gpp',
  'application/pdf': 'application/pdf',
  'text/vcard': 'text/vcard',
  'text/calendar': 'text/calendar',
  'application/rtf': 'text/rtf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation':
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export type SniffResult = { ok: true; contentType: string } | { ok: false; reason: string };

/**
 * The file's type from its content, never from its name or the type the client declared: a
 * renamed executable is still an executable. Text formats have no magic number: a vCard or a
 * calendar is recognised by its first line, CSV only when declared so and plain UTF-8 text.
 */
export async function sniffMmsType(bytes: Buffer, declaredType: string | undefined, fileName: string | undefined): Promise<SniffResult> {
  if (bytes.length === 0) return { ok: false, reason: 'The file is empty' };
  const detected = await fileTypeFromBuffer(bytes);
  if (detected) {
    const contentType = BY_DETECTED_TYPE[detected.mime];
    return contentType
      ? { ok: true, contentType }
      : { ok: false, reason: `Files of type ${detected.mime} cannot be sent by MMS` };
  }
  const text = asText(bytes);
  if (text === null) return { ok: false, reason: 'The file type could not be recognised from its content' };
  const head = text.trimStart().slice(0, 20).toUpperCase();
  if (head.startsWith('BEGIN:VCARD')) return { ok: true, contentType: 'text/vcard' };
  if (head.startsWith('BEGIN:VCALENDAR')) return { ok: true, contentType: 'text/calendar' };
  const declared = (declaredType ?? '').split(';')[0]!.trim().toLowerCase();
  if (declared === 'text/csv' || /\.csv$/i.test(fileName ?? '')) return { ok: true, contentType: 'text/csv' };
  return { ok: false, reason: 'Plain text files cannot be sent by MMS (only vCard, calendar and CSV text formats)' };
}

/** UTF-8 text without control characters other than tab/CR/LF; null otherwise. */
function asText(bytes: Buffer): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text) ? null : text;
}
