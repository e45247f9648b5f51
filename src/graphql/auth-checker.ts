import type { AuthChecker } from 'type-graphql';
import { forbidden, unauthenticated } from '../shared/errors.js';
import type { RequestContext } from './context.js';

/** `@Authorized()` needs a verified token; `@Authorized(Role.ADMIN)` also that role. */
export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  if (!context.auth) throw unauthenticated();
  if (roles.length > 0 && !roles.includes(context.auth.role)) throw forbidden();
  return true;
};
