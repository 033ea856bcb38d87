import type { VendoredRule } from './redact-gitleaks.js';

export interface OwnRule extends VendoredRule {
  /** the capture group that is the secret (default: the longest one that matched, else the whole match) */
  group?: number;
  /** groups up to this one name the secret and are never it */
  skip?: number;
  /** a last look at the secret (and the match it is in) */
  check?: (secret: string, match: RegExpExecArray) => boolean;
}

// Rules of our own, beside gitleaks': secrets told by the name they are given (`*_PASSWORD=`,
// `"token": "…"`, `--api-key …`), by where they sit (URL credentials, auth headers, query strings),
// and well-known token shapes whose gitleaks rules demand more than a leaked key always has.
// Each names the group that is the secret; the rest of the match is kept.

/** Words that make a name secret wherever they appear in it: DB_PASSWORD, apiToken, x-auth-token. */
const SECRET_WORDS = String.raw`passw(?:or)?d|passphrase|pwd|secret|token|credential|creds|api[_.-]?key|apikey|private[_.-]?key|access[_.-]?key|auth[_.-]?(?:key|code|string)|authorization|signature|cookie|session[_.-]?id|conn(?:ection)?[_.-]?str(?:ing)?|dsn`;
/** `*Key` / `*_KEY` / `*-key` names (AccountKey, SECRET_KEY, x-api-key), told by their case so that `monkey` is not one. */
const KEY_NAME = String.raw`(?:[A-Za-z0-9]*(?:Key|KEY)|[A-Za-z0-9]*[_.-](?:key|Key|KEY))`;
/** an optional closing quote (JSON-escaped or not), the assignment, an optional space */
const ASSIGN = String.raw`(?:\\?["'\x60])?[ \t]*(?:=>|:=|=|:)[ \t]*`;
/** the value: quoted (JSON-escaped quotes included) or bare up to a delimiter */
const VALUE = String.raw`(?:\\"((?:[^"\\\n]|\\[^"\n])*?)\\"|"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|\x60([^\x60\n]*)\x60|([^\s"'\x60,;&)}\]>\\]+))`;

export const OWN_RULES: readonly OwnRule[] = [
  // a key block, terminated or cut off
  { id: 'private-key', source: String.raw`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|$)`, flags: 'i', keywords: ['-----begin'] },
  // scheme://user:password@host, or a token as the user
  { id: 'url-credentials', source: String.raw`\b[a-z][a-z0-9+.-]{1,20}://((?:[^\s/@'"<>:]*:[^\s/@'"<>]+)|[^\s/@'"<>:]{16,})@`, flags: 'i', keywords: ['://'] },
  { id: 'url-query-secret', source: String.raw`[?&](?:access_token|id_token|refresh_token|token|api_?key|key|secret|client_secret|password|passwd|pwd|sig|signature|auth|code)=([^&\s#"'<>\\]+)`, flags: 'i', keywords: ['='] },
  { id: 'auth-header', source: String.raw`\b(?:Bearer|Basic|Digest|Token|ApiKey)[ \t]+([A-Za-z0-9._~+/=:-]{8,})`, flags: '' },
  { id: 'auth-header', source: String.raw`(?=[apxcs])\b(?:authorization|proxy-authorization|x-api-key|api-key|x-auth-token|x-access-token|cookie|set-cookie)(?:\\?["'])?[ \t]*[:=][ \t]*(?:\\?["'])?(?:[A-Za-z]+[ \t]+)?([^\s"'\\,;]{6,})`, flags: 'i', keywords: ['auth', 'key', 'token', 'cookie'], check: (s) => looksSecret(s) },
  // any `name = value` (or `name: value`, `"name": "value"`), kept when the name says secret: one
  // cheap pattern for every assignment, the name judged after
  { id: 'secret-assignment', source: String.raw`(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]{1,80})${ASSIGN}${VALUE}`, flags: '', skip: 1, check: (s, m) => isSecretName(m[1] as string) && looksSecret(s) },
  { id: 'secret-flag', source: String.raw`(?<![\w-])--?[A-Za-z-]*(?:passw(?:or)?d|passphrase|token|secret|api-?key|auth|credentials?)(?:=|[ \t]+)${VALUE}`, flags: 'i', check: (s) => looksSecret(s) },
  { id: 'secret-element', source: String.raw`<([A-Za-z_:-]*(?:passw(?:or)?d|secret|token|api_?key|credential)[A-Za-z_:-]*)>([^<]{1,512})</\1>`, flags: 'i', group: 2, check: (s) => looksSecret(s) },
  // said in words or by a tool's own syntax: "the password is …", .netrc, sshpass -p, mysql -p…
  { id: 'secret-phrase', source: String.raw`\b(?:password|passwd|passphrase|pwd|secret|token|api key)[ \t]+(?:is|was|=|:)[ \t]+["'\x60]?([^\s"'\x60]{4,})`, flags: 'i', check: (s) => looksSecret(s) },
  { id: 'secret-phrase', source: String.raw`\blogin[ \t]+\S+[ \t]+password[ \t]+(\S+)`, flags: 'i', keywords: ['password'] },
  { id: 'secret-flag', source: String.raw`\bsshpass[ \t]+-p[ \t]*(?:'([^'\n]+)'|"([^"\n]+)"|(\S+))`, flags: '', keywords: ['sshpass'] },
  { id: 'secret-flag', source: String.raw`\b(?:mysql|mysqldump|mariadb)\b[^\n]*?[ \t]-p(?:'([^'\n]+)'|"([^"\n]+)"|([^\s'"]{3,}))`, flags: '', keywords: ['mysql', 'mariadb'] },
  // token shapes: vendor prefixes, JWTs, webhooks, raw 256-bit keys written in hex
  { id: 'api-key-prefix', source: String.raw`\b(?:sk|pk|rk)-(?:[A-Za-z0-9]+-){0,3}[A-Za-z0-9_-]{16,}`, flags: '' },
  { id: 'api-key-prefix', source: String.raw`\b(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{8,}`, flags: '' },
  { id: 'api-key-prefix', source: String.raw`\b(?:whsec|hf|npm|gh[pousr]|github_pat|glpat|pypi|shp(?:at|ca|pa|ss)|xox[abprse]|dop_v1|doo_v1|lin_api|pnu|rdme|sntry[su]|dapi|pplx|ntn|op|tskey)[_-][A-Za-z0-9_-]{16,}`, flags: '' },
  { id: 'api-key-prefix', source: String.raw`\b(?:NRAK|NRII|NRJS|PMAK|HRKU|EZAK|EZTK)-[A-Za-z0-9-]{16,}`, flags: '' },
  { id: 'api-key-prefix', source: String.raw`\bSG\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`, flags: '' },
  { id: 'aws-access-key', source: String.raw`\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b`, flags: '' },
  { id: 'jwt', source: String.raw`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, flags: '' },
  { id: 'hex-key', source: String.raw`\b0x[0-9a-fA-F]{64}\b`, flags: '' },
  { id: 'webhook-url', source: String.raw`https?://(?:hooks\.slack\.com|discord(?:app)?\.com/api/webhooks|[a-z0-9-]+\.webhook\.office\.com|outlook\.office\.com/webhook)/([^\s"'<>\\]+)`, flags: 'i', keywords: ['hooks.slack.com', 'webhook'] },
];

const SECRET_NAME = new RegExp(`(?:${SECRET_WORDS})`, 'i');
const KEY_NAME_END = new RegExp(`${KEY_NAME}$`);

/** A name whose value is a secret whatever it looks like: a variable, a JSON key, a header, a field. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || KEY_NAME_END.test(name);
}

/** Values a name like `token:` is often followed by that are no secret: types, booleans, variable references. */
const NOT_SECRET = /^(?:true|false|null|none|nil|undefined|bearer|basic|token|string|str|number|int|integer|bool|boolean|bytes|any|unknown|object|optional|required|\*+|x+|\.\.\.|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$[({$].*|(?:process\.)?env\.[\w.]+|os\.environ\S*|[~^]?\d+(?:\.\d+)+|\{\{[^}]*\}\}|\[REDACTED[^\]]*\]?|\d{1,7})$/i;

/** Whether a value found by name (not by shape) is worth hiding. */
export function looksSecret(value: string): boolean {
  return value.length >= 3 && !NOT_SECRET.test(value);
}

/**
 * A run of token characters that no word, path, hash or id is: 20 characters or more, mixing digits with letters of
 * both cases (or letters beyond hex), changing character class often, with few word-like runs of
 * letters, and of high entropy. Catches keys of vendors no rule names.
 */
export const HIGH_ENTROPY = /(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/-]{20,}={0,2}/g;

const VOWELS = new Set([97, 101, 105, 111, 117]);

export function highEntropy(token: string): boolean {
  // a short word and a separator in front (rs_, msg-) then hex: an id or a hash
  if (/^(?:[A-Za-z]{1,6}[_-])?(?:[0-9a-f]+|[0-9A-F]+)$/.test(token)) return false;
  let digits = 0;
  let upper = 0;
  let lower = 0;
  let beyondHex = 0;
  let changes = 0;
  let prev = 0;
  let run = 0;
  let inWords = 0;
  let vowels = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const cls = c >= 48 && c <= 57 ? 1 : c >= 65 && c <= 90 ? 2 : c >= 97 && c <= 122 ? 3 : 4;
    if (cls === 1) digits++;
    else if (cls === 2) {
      upper++;
      if (c > 70) beyondHex++;
    } else if (cls === 3) {
      lower++;
      if (c > 102) beyondHex++;
    }
    if (VOWELS.has(c | 0x20)) vowels++;
    if (i > 0 && cls !== prev) changes++;
    // letters of one case, four or more in a row, are how words (and paths, and names) look
    run = cls === prev && (cls === 2 || cls === 3) ? run + 1 : 1;
    if (run === 4) inWords += 4;
    else if (run > 4) inWords++;
    prev = cls;
  }
  if (digits < 2 || upper + lower < 8) return false;
  // one case of hex digits is a hash, not a key
  if (!(upper > 0 && lower > 0) && beyondHex === 0) return false;
  // names and paths change case or class seldom, or run letters into words; and words have vowels,
  // where a fifth of random letters are
  if (vowels / (upper + lower) >= 0.25 && (changes / (token.length - 1) < 0.3 || inWords / token.length > 0.35)) return false;
  return entropy(token) >= 3.5;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
