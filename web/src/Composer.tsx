import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useClient, useQuery } from 'urql';
import { countSegments } from '../../src/twilio/segments';
import { QUICK_REPLIES, RENDER_QUICK_REPLY, type QuickReplyView } from './queries';

/** Twilio refuses a body over 1,600 characters (21617); the server checks the same. */
export const MAX_BODY_CHARS = 1600;
/** Twilio sends at most 10 media and 5 MB of them per message; the server checks the same. */
export const MAX_ATTACHMENTS = 10;
export const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;
const ACCEPT = 'image/jpeg,image/png,image/gif,image/webp,image/bmp,audio/*,video/*,application/pdf,text/vcard,text/x-vcard,text/calendar';

interface Attachment {
  key: string;
  name: string;
  size: number;
  previewUrl: string | null;
  state: 'uploading' | 'ready' | 'error';
  id?: string;
  contentType?: string;
  error?: string;
}

interface Props {
  conversationId: string;
  token: string;
  disabled: boolean;
  disabledReason: string | null;
  onSend: (body: string, mediaIds: string[]) => Promise<boolean>;
}

/** POST /media (multipart, Bearer token) → the id sendMessage takes in mediaIds. */
async function upload(token: string, file: File): Promise<{ id: string; contentType: string }> {
  const form = new FormData();
  form.append('file', file, file.name);
  const res = await fetch('/media', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const json = (await res.json().catch(() => ({}))) as { id?: string; contentType?: string; error?: string };
  if (res.status !== 201 || !json.id) throw new Error(json.error ?? `Upload failed (HTTP ${res.status})`);
  return { id: json.id, contentType: json.contentType ?? file.type };
}

export function Composer({ conversationId, token, disabled, disabledReason, onSend }: Props) {
  const [body, setBody] = useState('');
  const [sending, setSending] = useState(false);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [pickerOpen, setPickerOpen] = useState(false);
  const id = useId();
  const textRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const chars = [...body].length;
  const count = countSegments(body);
  const over = chars > MAX_BODY_CHARS;
  const ready = attachments.filter((a) => a.state === 'ready');
  const uploading = attachments.some((a) => a.state === 'uploading');
  const totalBytes = attachments.reduce((n, a) => n + (a.state === 'error' ? 0 : a.size), 0);
  const tooBig = totalBytes > MAX_ATTACHMENT_BYTES;
  const canSend = !disabled && !sending && !uploading && !over && !tooBig && (body.trim() !== '' || ready.length > 0);

  // Previews are object URLs: freed when they go.
  const previews = useRef(new Set<string>());
  useEffect(() => () => previews.current.forEach((u) => URL.revokeObjectURL(u)), []);

  function removeAttachment(key: string) {
    setAttachments((list) => {
      const gone = list.find((a) => a.key === key);
      if (gone?.previewUrl) {
        URL.revokeObjectURL(gone.previewUrl);
        previews.current.delete(gone.previewUrl);
      }
      return list.filter((a) => a.key !== key);
    });
  }

  function addFiles(files: FileList | null) {
    if (!files) return;
    const room = MAX_ATTACHMENTS - attachments.length;
    for (const file of [...files].slice(0, Math.max(0, room))) {
      const key = crypto.randomUUID();
      const previewUrl = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
      if (previewUrl) previews.current.add(previewUrl);
      setAttachments((list) => [...list, { key, name: file.name, size: file.size, previewUrl, state: 'uploading' }]);
      upload(token, file).then(
        (r) => setAttachments((list) => list.map((a) => (a.key === key ? { ...a, state: 'ready', id: r.id, contentType: r.contentType } : a))),
        (e: Error) => setAttachments((list) => list.map((a) => (a.key === key ? { ...a, state: 'error', error: e.message } : a))),
      );
    }
    if (fileRef.current) fileRef.current.value = '';
  }

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    setSending(true);
    const ok = await onSend(body, ready.map((a) => a.id!));
    setSending(false);
    if (ok) {
      setBody('');
      for (const a of attachments) removeAttachment(a.key);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends; Shift+Enter is a new line.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  }

  /** Puts text where the cursor is (or replaces the selection), and keeps the focus there. */
  function insert(text: string) {
    const el = textRef.current;
    const start = el?.selectionStart ?? body.length;
    const end = el?.selectionEnd ?? body.length;
    const next = body.slice(0, start) + text + body.slice(end);
    setBody(next);
    requestAnimationFrame(() => {
      if (!el) return;
      el.focus();
      el.setSelectionRange(start + text.length, start + text.length);
    });
  }

  return (
    <form className="composer" onSubmit={submit} aria-label="Reply">
      {disabledReason && (
        <p className="banner banner-warning" role="status" data-testid="composer-disabled">
          {disabledReason}
        </p>
      )}
      <label htmlFor={`${id}-body`} className="visually-hidden">
        Reply text
      </label>
      <textarea
        id={`${id}-body`}
        ref={textRef}
        name="body"
        rows={3}
        value={body}
        disabled={disabled}
        placeholder={disabled ? 'Replying is disabled' : 'Write a reply… (Enter to send, Shift+Enter for a new line)'}
        aria-describedby={`${id}-counter`}
        aria-invalid={over || undefined}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={onKeyDown}
      />
      {attachments.length > 0 && (
        <ul className="attachments" aria-label="Attachments" data-testid="attachments">
          {attachments.map((a) => (
            <li key={a.key} className={`attachment attachment-${a.state}`} data-state={a.state}>
              {a.previewUrl ? <img src={a.previewUrl} alt={`Preview of ${a.name}`} /> : <span className="file-icon" aria-hidden="true">📎</span>}
              <span className="attachment-name">
                {a.name}
                <span className="muted">
                  {' '}
                  {a.state === 'uploading' ? '· uploading…' : a.state === 'error' ? '' : `· ${Math.ceil(a.size / 1024)} KB`}
                </span>
                {a.state === 'error' && (
                  <span className="error" role="alert">
                    {' '}
                    {a.error}
                  </span>
                )}
              </span>
              <button type="button" className="link" aria-label={`Remove ${a.name}`} onClick={() => removeAttachment(a.key)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {pickerOpen && (
        <QuickReplyPicker
          conversationId={conversationId}
          onPick={(text) => {
            setPickerOpen(false);
            insert(text);
          }}
          onClose={() => {
            setPickerOpen(false);
            textRef.current?.focus();
          }}
        />
      )}
      <div className="composer-bar">
        <div className="composer-tools">
          <button type="button" disabled={disabled} aria-expanded={pickerOpen} onClick={() => setPickerOpen((o) => !o)}>
            Quick replies
          </button>
          <label className={`attach-button ${disabled || attachments.length >= MAX_ATTACHMENTS ? 'disabled' : ''}`}>
            <span>Attach</span>
            <input
              ref={fileRef}
              type="file"
              className="visually-hidden"
              aria-label="Attach files"
              accept={ACCEPT}
              multiple
              disabled={disabled || attachments.length >= MAX_ATTACHMENTS}
              onChange={(e) => addFiles(e.target.files)}
            />
          </label>
        </div>
        <span id={`${id}-counter`} className={`counter ${over || tooBig ? 'over' : ''}`} data-testid="segment-counter">
          {chars.toLocaleString()}/{MAX_BODY_CHARS.toLocaleString()} characters · {count.encoding} · {count.segments}{' '}
          {count.segments === 1 ? 'segment' : 'segments'}
          {over ? ' · too long' : ''}
          {ready.length > 0 ? ` · MMS, ${ready.length} ${ready.length === 1 ? 'attachment' : 'attachments'}` : ''}
          {tooBig ? ' · attachments over 5 MB' : ''}
        </span>
        <button type="submit" disabled={!canSend}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
    </form>
  );
}

/** Saved replies: search, pick one; its placeholders are filled in by the server for this conversation. */
function QuickReplyPicker({ conversationId, onPick, onClose }: { conversationId: string; onPick: (text: string) => void; onClose: () => void }) {
  const [search, setSearch] = useState('');
  const term = search.trim().length >= 2 ? search.trim() : null;
  const [result] = useQuery<{ quickReplies: QuickReplyView[] }>({ query: QUICK_REPLIES, variables: { search: term } });
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const id = useId();
  useEffect(() => searchRef.current?.focus(), []);
  const list = result.data?.quickReplies ?? [];

  async function pick(reply: QuickReplyView) {
    const r = await client.query<{ renderQuickReply: string }>(RENDER_QUICK_REPLY, { c: conversationId, id: reply.id }).toPromise();
    if (r.error || !r.data) setError(r.error?.graphQLErrors[0]?.message ?? r.error?.message ?? 'Could not fill in the quick reply');
    else onPick(r.data.renderQuickReply);
  }

  return (
    <div
      className="quick-replies card"
      role="dialog"
      aria-labelledby={`${id}-title`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <h3 id={`${id}-title`} className="visually-hidden">
        Quick replies
      </h3>
      <label>
        Search quick replies
        <input ref={searchRef} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result.fetching && list.length === 0 && <p className="muted">Loading…</p>}
      {!result.fetching && list.length === 0 && <p className="muted">No quick replies{term ? ' match' : ' yet (an admin adds them)'}.</p>}
      <ul className="quick-reply-list">
        {list.map((q) => (
          <li key={q.id}>
            <button type="button" className="quick-reply" onClick={() => void pick(q)} data-quick-reply-id={q.id}>
              <strong>{q.title}</strong>
              <span className="muted">{q.body}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
