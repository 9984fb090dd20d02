import type { Role } from '../../shared/protocol.js';
import { tokenMatches } from './accessToken.js';

/** The tokens that open the broadcast; each gives its bearer a role. */
export interface AccessTokens {
  viewer: string;
  /** Empty: no admin link. */
  admin: string;
}

/** The role a presented token grants, or undefined when it opens nothing (constant-time compares). */
export function roleForToken(presented: unknown, tokens: AccessTokens): Role | undefined {
  if (tokens.admin !== '' && tokenMatches(presented, tokens.admin)) return 'admin';
  if (tokenMatches(presented, tokens.viewer)) return 'viewer';
  return undefined;
}
