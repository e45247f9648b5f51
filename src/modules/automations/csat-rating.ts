const WORDS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5 };
const RATING = /^([1-5]|one|two|three|four|five)(?:\s*(?:stars?|\/\s*5))?$/;

/**
 * A survey answer: the trimmed, case-insensitive text is 1–5 or one–five, optionally followed
 * by "star", "stars" or "/5" ("5", "Four stars", "3/5"). Anything else is an ordinary text.
 */
export function parseRating(body: string): number | null {
  const m = RATING.exec(body.trim().toLowerCase());
  if (!m) return null;
  return WORDS[m[1]!] ?? Number(m[1]);
}
