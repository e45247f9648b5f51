import { badInput } from '../../shared/errors.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../shared/passwords.js';

// Deliberately permissive (one @, a dot in the domain, no spaces): the address is a login name,
// not something we mail here.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) throw badInput('Enter a valid email address', 'email');
  return email;
}

export function requireName(raw: string, field = 'name', max = 200): string {
  const name = raw.trim();
  if (name.length === 0) throw badInput(`${field} must not be empty`, field);
  if (name.length > max) throw badInput(`${field} must be at most ${max} characters`, field);
  return name;
}

export function requirePassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw badInput(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw badInput(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`, 'password');
  }
  return password;
}

/** "Acme Dental, Inc." → "acme-dental-inc"; never empty. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return slug || 'tenant';
}
