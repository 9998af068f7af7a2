import { userInputError } from './errors.js';

/** Types that have global IDs. */
export const NODE_TYPES = new Set(['Issue', 'Category', 'Paper']);

const MAX_ID_LENGTH = 200;

export { encodeGlobalId } from '../ids.js';

/** Decodes a global ID, or throws a BAD_USER_INPUT error that says what is wrong. */
export function decodeGlobalId(
  globalId: string,
  types: ReadonlySet<string> = NODE_TYPES,
): { typename: string; id: string } {
  const invalid = () => userInputError(`"${globalId.slice(0, 60)}" is not a valid ID`);
  if (globalId.length === 0 || globalId.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(globalId)) {
    throw invalid();
  }
  const text = Buffer.from(globalId, 'base64url').toString('utf8');
  const match = /^([A-Za-z]+):([1-9][0-9]{0,9})$/.exec(text);
  if (!match || !types.has(match[1]!) || Number(match[2]) > 2_147_483_647) throw invalid();
  return { typename: match[1]!, id: match[2]! };
}
