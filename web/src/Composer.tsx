import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { countSegments } from '../../src/twilio/segments';

/** Twilio refuses a body over 1,600 characters (21617); the server checks the same. */
export const MAX_BODY_CHARS = 1600;

interface Props {
  disabled: boolean;
  disabledReason: string | null;
  onSend: (body: string) => Promise<boolean>;
}

export function Composer({ disabled, disabledReason, onSend }: Props) {
  const [body, setBody] = useState('');
  const [sending, setSending] = useState(false);
  const id = useId();
  const chars = [...body].length;
  const count = countSegments(body);
  const over = chars > MAX_BODY_CHARS;
  const canSend = !disabled && !sending && body.trim() !== '' && !over;

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    setSending(true);
    const ok = await onSend(body);
    setSending(false);
    if (ok) setBody('');
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends; Shift+Enter is a new line.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
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
      <div className="composer-bar">
        <span id={`${id}-counter`} className={`counter ${over ? 'over' : ''}`} data-testid="segment-counter">
          {chars.toLocaleString()}/{MAX_BODY_CHARS.toLocaleString()} characters · {count.encoding} · {count.segments}{' '}
          {count.segments === 1 ? 'segment' : 'segments'}
          {over ? ' · too long' : ''}
        </span>
        <button type="submit" disabled={!canSend}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
    </form>
  );
}
