/**
 * Finds Redis keys built outside the state layer (issue 15 item 2): src/state/key-space.ts names every key, and
 * code elsewhere takes its keys from there. Reads a file's syntax tree (the TypeScript compiler's parser) and reports:
 *  - a key built on a prefix (a template or `+` that joins something named `…prefix` with `:`, or wraps it in `{}`);
 *  - a key written inline where a Redis command takes a key (a string, template or `+` expression), or a
 *    local constant initialized that way and passed as the key;
 *  - BullMQ's `prefix` or rate-limiter-flexible's `keyPrefix` given as a string instead of KeySpace's.
 * ttlViolations reports lifetimes written as numbers where a key gets its TTL.
 */
import ts from 'typescript';

/** Redis commands (ioredis method names) whose first argument is a key. */
const FIRST_ARG_KEY = new Set([
  'append', 'decr', 'decrby', 'expire', 'get', 'getBuffer', 'getdel', 'getset', 'hdel', 'hexists', 'hget', 'hgetall', 'hincrby',
  'hkeys', 'hlen', 'hmget', 'hmset', 'hset', 'hsetnx', 'hvals', 'incr', 'incrby', 'lindex', 'llen', 'lpop', 'lpush', 'lrange',
  'lrem', 'ltrim', 'persist', 'pexpire', 'pexpireat', 'psetex', 'pttl', 'publish', 'rpop', 'rpush', 'sadd', 'scard', 'set',
  'setex', 'setnx', 'sismember', 'smembers', 'spop', 'srem', 'ttl', 'type', 'xadd', 'xlen', 'xrange', 'xrevrange', 'xtrim',
  'zadd', 'zcard', 'zcount', 'zincrby', 'zrange', 'zrangebyscore', 'zrem', 'zremrangebyrank', 'zremrangebyscore', 'zrevrange', 'zscore',
]);
/** Commands whose every argument is a key (or channel). */
const ALL_ARGS_KEYS = new Set(['del', 'exists', 'mget', 'unlink', 'watch', 'subscribe', 'unsubscribe', 'touch']);
/** Scripts: `eval(script, numkeys, ...keys, ...args)`. */
const SCRIPT = new Set(['eval', 'evalsha', 'evalBuffer']);
/** Receivers that are Redis connections, MULTIs or pipelines (by name: the checker reads syntax, not types). */
const REDIS_RECEIVER = /redis|multi|pipe|subscriber|\bconn(ection)?\b|\bnode\b/i;
/** Constructors whose `prefix` / `keyPrefix` option names Redis keys. */
const PREFIXED_CTORS = new Set(['Queue', 'Worker', 'QueueEvents', 'FlowProducer', 'RateLimiterRedis']);

/** One place where a key is built outside the state layer. */
export interface KeyViolation {
  file: string;
  line: number;
  rule: 'prefix-built' | 'inline-key' | 'literal-prefix' | 'literal-ttl';
  text: string;
}

const isStringish = (n: ts.Node): boolean =>
  ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n) || (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken);

const namesPrefix = (n: ts.Node): boolean =>
  (ts.isIdentifier(n) && /prefix$/i.test(n.text)) || (ts.isPropertyAccessExpression(n) && /prefix$/i.test(n.name.text));

/** The literal text of a template or concatenation (where a key's `:` separators or a hash tag's braces would be). */
function literalText(n: ts.Node): string {
  if (ts.isTemplateExpression(n)) return n.head.text + n.templateSpans.map((s) => literalText(s.expression) + s.literal.text).join('');
  if (ts.isBinaryExpression(n)) return literalText(n.left) + literalText(n.right);
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  if (ts.isParenthesizedExpression(n)) return literalText(n.expression);
  return '';
}

/**
 * A key built on the prefix: a template or concatenation that uses something named `…prefix` and joins it with a
 * `:` or wraps it in a hash tag's braces (an HTML block's `prefix + text` is no key).
 */
const isPrefixKey = (n: ts.Node): boolean => builtFromPrefix(n) && /[:{}]/.test(literalText(n));

/** Does this template / concatenation use something named `…prefix` directly? */
function builtFromPrefix(n: ts.Node): boolean {
  if (ts.isTemplateExpression(n)) return n.templateSpans.some((s) => namesPrefix(s.expression) || builtFromPrefix(s.expression));
  if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    return [n.left, n.right].some((x) => namesPrefix(x) || builtFromPrefix(x));
  }
  if (ts.isParenthesizedExpression(n)) return builtFromPrefix(n.expression);
  return false;
}

/** Key-building places in one file's text. */
export function keyViolations(file: string, text: string): KeyViolation[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: KeyViolation[] = [];
  const report = (node: ts.Node, rule: KeyViolation['rule']) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ file, line, rule, text: node.getText(sf).replace(/\s+/g, ' ').slice(0, 120) });
  };
  // Local names bound to a string built in place: `const key = \`…\``, then `redis.get(key)`.
  const inlineNames = new Set<string>();
  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && isStringish(node.initializer)) inlineNames.add(node.name.text);
    ts.forEachChild(node, collect);
  };
  collect(sf);
  const inlineKey = (arg: ts.Expression): boolean => isStringish(arg) || (ts.isIdentifier(arg) && inlineNames.has(arg.text));

  const visit = (node: ts.Node): void => {
    if ((ts.isTemplateExpression(node) || ts.isBinaryExpression(node)) && isPrefixKey(node)) {
      report(node, 'prefix-built');
      return; // the outermost expression, once
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && REDIS_RECEIVER.test(node.expression.expression.getText(sf))) {
      const name = node.expression.name.text;
      const args = node.arguments;
      let keyArgs: readonly ts.Expression[] = [];
      if (FIRST_ARG_KEY.has(name)) keyArgs = args.slice(0, 1);
      else if (ALL_ARGS_KEYS.has(name)) keyArgs = args;
      else if (SCRIPT.has(name) && args.length >= 2) {
        const n = ts.isNumericLiteral(args[1]!) ? Number(args[1]!.text) : args.length - 2;
        keyArgs = args.slice(2, 2 + n);
      }
      for (const a of keyArgs) if (inlineKey(a)) report(a, 'inline-key');
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && PREFIXED_CTORS.has(node.expression.text)) {
      for (const a of node.arguments ?? []) {
        if (!ts.isObjectLiteralExpression(a)) continue;
        for (const p of a.properties) {
          if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && /^(prefix|keyPrefix)$/.test(p.name.text) && isStringish(p.initializer)) report(p, 'literal-prefix');
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** A number written in place: `300`, `7 * 86400`, `24 * 3600`. */
const isNumberLiteral = (n: ts.Node): boolean =>
  ts.isNumericLiteral(n) || (ts.isBinaryExpression(n) && isNumberLiteral(n.left) && isNumberLiteral(n.right)) || (ts.isParenthesizedExpression(n) && isNumberLiteral(n.expression));

/** A Lua script that sets a lifetime with a number of its own instead of an argument. */
const LUA_LITERAL_TTL = /'(EX|PX)'\s*,\s*\d|(EXPIRE|PEXPIRE)'\s*,\s*KEYS\[\d+\]\s*,\s*\d/i;

/**
 * Lifetimes written as numbers where a key gets its TTL (`'EX', 7 * 86400`, `expire(key, 300)`, or inside a Lua
 * script): each TTL is a named constant (TTL in src/state/key-space.ts, or a setting passed in).
 */
export function ttlViolations(file: string, text: string): KeyViolation[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: KeyViolation[] = [];
  const report = (node: ts.Node) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ file, line, rule: 'literal-ttl', text: node.getText(sf).replace(/\s+/g, ' ').slice(0, 120) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && REDIS_RECEIVER.test(node.expression.expression.getText(sf))) {
      const name = node.expression.name.text;
      const args = node.arguments;
      if (/^p?expire$/.test(name) && args[1] && isNumberLiteral(args[1])) report(args[1]);
      if (/^(p?setex)$/.test(name) && args[1] && isNumberLiteral(args[1])) report(args[1]);
      args.forEach((a, i) => {
        const next = args[i + 1];
        if (ts.isStringLiteral(a) && /^(EX|PX)$/i.test(a.text) && next && isNumberLiteral(next)) report(next);
      });
    }
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && LUA_LITERAL_TTL.test(node.text)) report(node);
    if (ts.isTemplateExpression(node) && LUA_LITERAL_TTL.test(node.getText(sf))) report(node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}
