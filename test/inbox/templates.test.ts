import { describe, expect, it } from 'vitest';
import { assertPlaceholders, renderTemplate, unknownPlaceholders } from '../../src/shared/templates.js';

describe('placeholder templates', () => {
  const values = { 'contact.name': 'Zoë', 'agent.name': 'Andy', 'tenant.name': 'Acme Dental' };

  it('fills every known placeholder, spaces inside the braces allowed, each occurrence', () => {
    expect(renderTemplate('Hi {{contact.name}}, {{ agent.name }} from {{tenant.name}} here. Bye {{contact.name}}!', values)).toBe(
      'Hi Zoë, Andy from Acme Dental here. Bye Zoë!',
    );
  });

  it('an empty name leaves no double space and no space before punctuation', () => {
    const none = { ...values, 'contact.name': null };
    expect(renderTemplate('Hi {{contact.name}}, thanks', none)).toBe('Hi, thanks');
    expect(renderTemplate('Hi {{contact.name}} thanks', none)).toBe('Hi thanks');
    expect(renderTemplate('{{contact.name}} welcome', none)).toBe('welcome');
    expect(renderTemplate('Thanks {{contact.name}}', none)).toBe('Thanks');
    expect(renderTemplate('Thanks {{contact.name}}!\n{{contact.name}} see you', none)).toBe('Thanks!\nsee you');
    expect(renderTemplate('Dear {{contact.name}}   {{contact.name}} friend', { 'contact.name': '  ' })).toBe('Dear friend');
    expect(renderTemplate('Hi {{contact.name}}', {})).toBe('Hi');
  });

  it('leaves text without placeholders and stray braces alone', () => {
    expect(renderTemplate('Price: {5} {{ }} {{a}', values)).toBe('Price: {5} {{ }} {{a}');
    expect(renderTemplate('Two  spaces stay', values)).toBe('Two  spaces stay');
  });

  it('names unknown placeholders at save time, and only those', () => {
    expect(unknownPlaceholders('Hi {{contact.name}} {{contact.email}} {{ foo }} {{foo}}')).toEqual(['contact.email', 'foo']);
    expect(unknownPlaceholders('Hi {{ contact.name }}')).toEqual([]);
    expect(unknownPlaceholders('{{contact.name}}', ['tenant.name'])).toEqual(['contact.name']);
    expect(() => assertPlaceholders('Hi {{contact.nmae}}', (m) => new Error(m))).toThrow(/\{\{contact\.nmae\}\}/);
    expect(() => assertPlaceholders('Hi {{contact.name}}', (m) => new Error(m))).not.toThrow();
  });
});
