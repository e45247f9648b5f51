import { describe, expect, it } from 'vitest';
import { countSegments } from '../../src/twilio/segments.js';

const a = (n: number) => 'a'.repeat(n);
const zh = (n: number) => 'ж'.repeat(n); // Cyrillic: outside GSM-7, one UTF-16 unit

describe('countSegments: GSM-7', () => {
  it('returns 0 segments for an empty body', () => {
    expect(countSegments('')).toEqual({ encoding: 'GSM-7', segments: 0, units: 0 });
  });

  it('fits 160 characters in one segment and splits at 161', () => {
    expect(countSegments(a(1))).toEqual({ encoding: 'GSM-7', segments: 1, units: 1 });
    expect(countSegments(a(160))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(countSegments(a(161))).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
  });

  it('puts 153 characters in each part of a long message', () => {
    expect(countSegments(a(153 * 2)).segments).toBe(2);
    expect(countSegments(a(153 * 2 + 1)).segments).toBe(3);
    expect(countSegments(a(153 * 10)).segments).toBe(10);
    expect(countSegments(a(153 * 10 + 1)).segments).toBe(11);
  });

  it('counts extension characters as two septets', () => {
    for (const ch of ['^', '{', '}', '[', ']', '~', '\\', '|', '€', '\f']) {
      expect(countSegments(ch), JSON.stringify(ch)).toEqual({ encoding: 'GSM-7', segments: 1, units: 2 });
    }
    expect(countSegments('{'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(countSegments('{'.repeat(80) + 'a')).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
    expect(countSegments(a(159) + '€')).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
  });

  it('never splits an escape pair across segments', () => {
    // 152 + 2 does not fit in 153: the € opens segment 2, which then holds 2 + 151 = 153.
    expect(countSegments(a(152) + '€' + a(151))).toEqual({ encoding: 'GSM-7', segments: 2, units: 305 });
    // 306 septets would be two full parts if the pair could be split; it cannot, so three.
    expect(countSegments(a(152) + '€' + a(152))).toEqual({ encoding: 'GSM-7', segments: 3, units: 306 });
    // An escape that ends exactly on the boundary does not spill over.
    expect(countSegments(a(151) + '€' + a(153))).toEqual({ encoding: 'GSM-7', segments: 2, units: 306 });
  });

  it('recognises the basic set, accents and Greek capitals as GSM-7', () => {
    const samples = [
      '@£$¥èéùìòÇ\nØø\rÅå',
      'ΔΦΓΛΩΠΨΣΘΞ_ÆæßÉ',
      ' !"#¤%&\'()*+,-./0123456789:;<=>?',
      '¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà',
    ];
    for (const s of samples) expect(countSegments(s).encoding, s).toBe('GSM-7');
  });

  it('switches to UCS-2 for characters outside GSM 03.38', () => {
    // Lowercase ç, á, backtick, curly quote, en dash, Cyrillic, CJK, emoji are all outside.
    for (const ch of ['ç', 'á', '`', '’', '–', 'ж', '中', '😀', 'ä\u0308']) {
      expect(countSegments('Hello ' + ch).encoding, ch).toBe('UCS-2');
    }
  });
});

describe('countSegments: UCS-2', () => {
  it('fits 70 code units in one segment and splits at 71', () => {
    expect(countSegments(zh(70))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(countSegments(zh(71))).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 });
  });

  it('puts 67 code units in each part', () => {
    expect(countSegments(zh(134)).segments).toBe(2);
    expect(countSegments(zh(135)).segments).toBe(3);
  });

  it('counts an emoji as two code units', () => {
    expect(countSegments('😀')).toEqual({ encoding: 'UCS-2', segments: 1, units: 2 });
    expect(countSegments('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    // 72 units: 33 emoji (66 units) in part 1, 3 in part 2.
    expect(countSegments('😀'.repeat(36))).toEqual({ encoding: 'UCS-2', segments: 2, units: 72 });
  });

  it('never splits a surrogate pair across segments', () => {
    // 66 + 2 > 67: the emoji opens part 2 (2 + 65 = 67), one unit spills into part 3.
    expect(countSegments(zh(66) + '😀' + zh(66))).toEqual({ encoding: 'UCS-2', segments: 3, units: 134 });
    // 65 + 2 = 67 fills part 1 exactly.
    expect(countSegments(zh(65) + '😀' + zh(67))).toEqual({ encoding: 'UCS-2', segments: 2, units: 134 });
  });

  it('counts GSM extension characters as one unit once the message is UCS-2', () => {
    expect(countSegments('€ж')).toEqual({ encoding: 'UCS-2', segments: 1, units: 2 });
    expect(countSegments('{'.repeat(69) + 'ж')).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
  });

  it('handles a mixed message: one non-GSM character makes all of it UCS-2', () => {
    const body = a(100) + '😀';
    // 102 units: would have been one GSM-7 segment without the emoji.
    expect(countSegments(a(100))).toEqual({ encoding: 'GSM-7', segments: 1, units: 100 });
    expect(countSegments(body)).toEqual({ encoding: 'UCS-2', segments: 2, units: 102 });
  });

  it('counts a lone surrogate as one unit', () => {
    expect(countSegments('\ud83d')).toEqual({ encoding: 'UCS-2', segments: 1, units: 1 });
  });
});
