import { describe, expect, it } from 'vitest';
import { keywordOf, optChangeOf } from '../../src/modules/inbound/opt-out.js';

describe('opt-out keywords (Twilio’s list, whole body, trimmed, any case)', () => {
  it.each(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'])('%s opts out, in any case and with spaces around', (word) => {
    expect(optChangeOf(word)).toBe('OPT_OUT');
    expect(optChangeOf(`  ${word.toLowerCase()}\n`)).toBe('OPT_OUT');
    expect(optChangeOf(word[0] + word.slice(1).toLowerCase())).toBe('OPT_OUT');
  });

  it.each(['START', 'YES', 'UNSTOP'])('%s opts back in', (word) => {
    expect(optChangeOf(` ${word.toLowerCase()} `)).toBe('OPT_IN');
  });

  it('HELP and INFO are keywords that change nothing', () => {
    expect(keywordOf(' help ')).toBe('HELP');
    expect(keywordOf('Info')).toBe('HELP');
    expect(optChangeOf('HELP')).toBeNull();
    expect(optChangeOf('info')).toBeNull();
  });

  it('a keyword inside a sentence, or with punctuation, is not one', () => {
    for (const body of ['please stop', 'STOP!', 'stop it', 'yes please', 'opt out', 'un subscribe', '', '   ']) {
      expect(optChangeOf(body), body).toBeNull();
    }
    expect(keywordOf('end of story')).toBeNull();
  });

  it("Twilio's OptOutType wins over the body", () => {
    expect(optChangeOf('hello', 'STOP')).toBe('OPT_OUT');
    expect(optChangeOf('STOP', 'START')).toBe('OPT_IN');
    expect(optChangeOf('STOP', 'HELP')).toBe('OPT_OUT');
  });
});
