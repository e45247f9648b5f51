import { describe, expect, it } from 'vitest';
import { AutomatedMessageTrigger } from '../../src/modules/automations/automation.enums.js';
import { parseRating } from '../../src/modules/automations/csat-rating.js';
import { isComplianceKeyword, mayAnswerAutomatically } from '../../src/modules/automations/keywords.js';
import { renderTemplate, validateTemplate } from '../../src/modules/automations/placeholders.js';
import { DomainError } from '../../src/shared/errors.js';

describe('survey answers', () => {
  it.each([
    ['5', 5], [' 1 ', 1], ['Four', 4], ['three stars', 3], ['1 star', 1], ['2stars', 2], ['4/5', 4], ['5 / 5', 5], ['FIVE STARS', 5],
  ])('%j rates %i', (body, rating) => {
    expect(parseRating(body)).toBe(rating);
  });

  it.each(['0', '6', '10', '5 stars!', 'five please', '3/10', 'hello', '', '4.5', 'one two'])('%j is an ordinary text', (body) => {
    expect(parseRating(body)).toBeNull();
  });
});

describe('texts nothing automated answers', () => {
  it('keywords are whole-body single words, any case; OptOutType always wins', () => {
    for (const word of ['STOP', 'stop', ' Help ', 'info', 'START', 'unstop', 'REVOKE', 'optout']) expect(isComplianceKeyword(word)).toBe(true);
    for (const body of ['stop it', 'help me', 'started']) expect(isComplianceKeyword(body)).toBe(false);
    expect(mayAnswerAutomatically('hello', 'STOP')).toBe(false);
    expect(mayAnswerAutomatically('hello', '')).toBe(true);
    expect(mayAnswerAutomatically('hello', undefined)).toBe(true);
  });
});

describe('automated message placeholders', () => {
  it('fills known placeholders; a missing value leaves no stray space', () => {
    const values = { contactName: null, agentName: 'Bo', tenantName: 'Acme' };
    expect(renderTemplate('Hi {{contact.name}}, {{ agent.name }} of {{tenant.name}} here.', values)).toBe('Hi, Bo of Acme here.');
  });

  it('refuses unknown placeholders, and anything but {{tenant.name}} in FAILURE', () => {
    expect(() => validateTemplate('Hi {{contact.phone}}', AutomatedMessageTrigger.GREETING)).toThrow(DomainError);
    expect(() => validateTemplate('Sorry {{agent.name}}', AutomatedMessageTrigger.FAILURE)).toThrow(/only \{\{tenant.name\}\}/);
    expect(validateTemplate('  Sorry, {{tenant.name}} is offline ', AutomatedMessageTrigger.FAILURE)).toBe('Sorry, {{tenant.name}} is offline');
  });
});
