/**
 * Hard limits on untrusted query text. They bound the time and memory of lexing, parsing and
 * checking (all linear in the text), and the size of the MPC program a query can ask for.
 */
/** Longest query text accepted, in UTF-16 code units. Checked before anything else. */
export const MAX_QUERY_LENGTH = 8_192;
/** Most tokens in one query. */
export const MAX_TOKENS = 2_000;
/** Deepest nesting of parentheses, NOT and unary minus (the parser is recursive). */
export const MAX_DEPTH = 32;
/** Longest identifier, in characters. */
export const MAX_IDENTIFIER_LENGTH = 128;
/** Longest string literal, in characters. */
export const MAX_STRING_LENGTH = 256;
/** Most digits in a number literal. */
export const MAX_NUMBER_DIGITS = 30;
/** Most items in the SELECT list. */
export const MAX_SELECT_ITEMS = 32;
/** Most values in one IN list. */
export const MAX_IN_LIST = 256;
/** Most comparison predicates in WHERE (each is a whole-column secure comparison). */
export const MAX_PREDICATES = 128;
/** Most regressors in REGRESS. */
export const MAX_REGRESSORS = 8;
/** Most histogram bins. */
export const MAX_BINS = 256;
/** Most groups (product of the GROUP BY domains). */
export const MAX_GROUPS = 256;
/** Most GROUP BY columns. */
export const MAX_GROUP_COLUMNS = 4;
