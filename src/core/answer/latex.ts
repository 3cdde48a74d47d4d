/**
 * LaTeX -> mathjs expression text, for one scalar answer (structures such as
 * sets, tuples and intervals are split off before). Small and table-driven:
 * anything it does not know makes it give up (returns null) rather than
 * guess, and the caller then falls back to string comparison.
 *
 * Conventions: every latin letter is its own symbol (`xy` is x*y); `e` is
 * Euler's number, `i` the imaginary unit, `\pi` pi; Greek letters become
 * symbols `g_<name>`; `\log` is base 10, `\ln` natural; `2^10` takes the whole
 * digit run as exponent (as models mean it).
 */

/** Unary functions: LaTeX command -> mathjs function. */
const FUNCTIONS: Readonly<Record<string, string>> = {
  sin: 'sin', cos: 'cos', tan: 'tan', cot: 'cot', sec: 'sec', csc: 'csc',
  arcsin: 'asin', arccos: 'acos', arctan: 'atan', arccot: 'acot', arcsec: 'asec', arccsc: 'acsc',
  asin: 'asin', acos: 'acos', atan: 'atan', sinh: 'sinh', cosh: 'cosh', tanh: 'tanh',
  ln: 'log', log: 'log10', lg: 'log10', exp: 'exp',
};
/** Constants: LaTeX command -> mathjs text. */
const CONSTANTS: Readonly<Record<string, string>> = { pi: 'pi', infty: 'Infinity', imath: 'i' };
/** Binary operators: LaTeX command -> mathjs operator. */
const OPERATORS: Readonly<Record<string, string>> = { cdot: '*', times: '*', ast: '*', div: '/' };
/** Commands that are dropped. */
const IGNORED = new Set(['circ', 'displaystyle', 'left', 'right', 'quad', 'qquad']);
const GREEK = new Set(['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta',
  'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron', 'rho', 'varrho', 'sigma', 'varsigma', 'tau', 'upsilon', 'phi',
  'varphi', 'chi', 'psi', 'omega', 'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega']);
/** Plain-text function names some answers use without a backslash. */
const BARE_NAMES = /(?<![\\a-zA-Z])(sqrt|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|arccot|asin|acos|atan|ln|log|exp|pi)(?![a-zA-Z])/g;

class GiveUp extends Error {}

/** `x` wrapped in parentheses unless it already is one parenthesised group. */
function paren(x: string): string {
  if (x[0] === '(') {
    let depth = 0;
    for (let k = 0; k < x.length; k++) {
      if (x[k] === '(') depth++;
      else if (x[k] === ')' && --depth === 0) return k === x.length - 1 ? x : `(${x})`;
    }
  }
  return `(${x})`;
}

class Converter {
  private pos = 0;
  constructor(private readonly s: string) {}

  convert(): string {
    const out = this.expr(null);
    if (this.pos < this.s.length) throw new GiveUp('trailing input');
    if (!out) throw new GiveUp('empty');
    return out;
  }

  private peek(): string { return this.s[this.pos] ?? ''; }
  private skipSpace(): void { while (this.pos < this.s.length && /\s/.test(this.s[this.pos])) this.pos++; }

  private readCommandName(): string {
    const m = /^\\([a-zA-Z]+|.)/.exec(this.s.slice(this.pos, this.pos + 40));
    if (!m) throw new GiveUp('bad command');
    this.pos += m[0].length;
    return m[1];
  }

  /** A sequence of operands and operators up to `stop` (consumed) or the end. */
  private expr(stop: string | null): string {
    let out = '';
    let operandEnd = false; // the output ends with an operand (for implicit multiplication)
    let intStart = -1; // where the last operand starts when it is a bare integer (for mixed numbers)
    const operand = (text: string) => { out += (operandEnd ? '*' : '') + text; operandEnd = true; intStart = -1; };
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.s.length) {
        if (stop !== null) throw new GiveUp('unclosed group');
        return out;
      }
      const c = this.peek();
      if (stop !== null && (c === stop || (stop === '|' && this.s.startsWith('\\rvert', this.pos)))) {
        if (stop === '|' && !operandEnd) throw new GiveUp('empty abs');
        this.pos += c === stop ? 1 : 6;
        return out;
      }
      if (/[0-9.]/.test(c)) {
        const start = out.length + (operandEnd ? 1 : 0);
        const num = this.number();
        const afterOperator = !operandEnd && (out === '' || /[+\-(]$/.test(out));
        operand(num);
        if (/^\d+$/.test(num) && afterOperator) intStart = start;
        continue;
      }
      if (/[a-zA-Z]/.test(c)) { this.pos++; operand(this.subscripted(c)); continue; }
      if (c === '{') { this.pos++; operand(`(${this.expr('}')})`); continue; }
      if (c === '(' || c === '[') { this.pos++; operand(`(${this.expr(c === '(' ? ')' : ']')})`); continue; }
      if (c === '|') {
        if (stop === '|' && operandEnd) { this.pos++; return out; }
        this.pos++; operand(`abs(${this.expr('|')})`); continue;
      }
      if (c === '+' || c === '-' || c === '*' || c === '/') { out += c; operandEnd = false; this.pos++; continue; }
      if (c === '^') {
        if (!operandEnd) throw new GiveUp('dangling ^');
        this.pos++;
        out += `^${paren(this.exponent())}`;
        continue;
      }
      if (c === '!') { if (!operandEnd) throw new GiveUp('dangling !'); out += '!'; this.pos++; continue; }
      if (c === '\\') {
        const save = this.pos;
        const name = this.readCommandName();
        if (name === 'rvert' || name === 'rfloor' || name === 'rceil') { this.pos = save; throw new GiveUp('unmatched ' + name); }
        if (OPERATORS[name]) { out += OPERATORS[name]; operandEnd = false; continue; }
        if (IGNORED.has(name)) continue;
        if (name === 'frac' && intStart >= 0) {
          // A mixed number: 4\frac12 = 4 + 1/2 (integer numerator and denominator only).
          const save2 = this.pos;
          const m = /^\s*(?:\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}|(\d)(\d))/.exec(this.s.slice(this.pos, this.pos + 60));
          if (m) {
            this.pos += m[0].length;
            out = `${out.slice(0, intStart)}(${out.slice(intStart)}+${m[1] ?? m[3]}/${m[2] ?? m[4]})`;
            operandEnd = true;
            intStart = -1;
            continue;
          }
          this.pos = save2;
        }
        operand(this.command(name));
        continue;
      }
      throw new GiveUp(`unsupported character ${c}`);
    }
  }

  private number(): string {
    const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+(?![a-zA-Z]))?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (!m) throw new GiveUp('bad number');
    this.pos += m[0].length;
    return m[0].endsWith('.') ? m[0].slice(0, -1) : m[0];
  }

  /** A symbol name with an optional subscript folded in: x_1, a_{n}. */
  private subscripted(base: string): string {
    let name = base;
    if (this.peek() === '_') {
      this.pos++;
      this.skipSpace();
      let sub: string;
      if (this.peek() === '{') {
        const end = this.s.indexOf('}', this.pos);
        if (end < 0) throw new GiveUp('bad subscript');
        sub = this.s.slice(this.pos + 1, end);
        this.pos = end + 1;
      } else {
        sub = this.peek();
        this.pos++;
      }
      sub = sub.replace(/[^a-zA-Z0-9]/g, '');
      if (!sub) throw new GiveUp('bad subscript');
      name = `${base}_${sub}`;
    }
    if (this.peek() === "'") throw new GiveUp('prime');
    return name;
  }

  /** One TeX argument: a {group}, a command, or a single character. */
  private arg(): string {
    this.skipSpace();
    const c = this.peek();
    if (c === '{') { this.pos++; return `(${this.expr('}')})`; }
    if (c === '(') { this.pos++; return `(${this.expr(')')})`; } // sqrt(2) written without LaTeX
    if (c === '\\') {
      const name = this.readCommandName();
      if (OPERATORS[name] || IGNORED.has(name)) throw new GiveUp('operator as argument');
      return this.command(name);
    }
    if (/[0-9a-zA-Z]/.test(c)) { this.pos++; return c; }
    throw new GiveUp('missing argument');
  }

  /** After ^: a group, a (signed) digit run, a letter or a command. */
  private exponent(): string {
    this.skipSpace();
    const m = /^-?\d+(?:\.\d+)?/.exec(this.s.slice(this.pos, this.pos + 50));
    if (m) { this.pos += m[0].length; return m[0]; }
    return this.arg();
  }

  /** A function argument without brackets: `\sin 2x` -> 2*x (operands up to an operator or a function). */
  private bareArgument(): string {
    let out = '';
    for (;;) {
      this.skipSpace();
      const c = this.peek();
      if (/[0-9.]/.test(c)) { out += (out ? '*' : '') + this.number(); continue; }
      if (/[a-zA-Z]/.test(c)) { this.pos++; out += (out ? '*' : '') + this.subscripted(c); continue; }
      if (c === '^' && out) { this.pos++; out += `^${paren(this.exponent())}`; continue; }
      if (c === '\\') {
        const save = this.pos;
        const name = this.readCommandName();
        if (CONSTANTS[name] || GREEK.has(name) || name === 'frac' || name === 'sqrt') { out += (out ? '*' : '') + this.command(name); continue; }
        this.pos = save;
      }
      break;
    }
    if (!out) throw new GiveUp('missing function argument');
    return out;
  }

  private command(name: string): string {
    if (name === 'frac') { const a = this.arg(); const b = this.arg(); return `(${a}/${b})`; }
    if (name === 'binom') {
      const a = this.arg(); const b = this.arg();
      // mathjs multiplies k factors: keep huge literal binomials out of reach.
      if (/\d{7,}/.test(a + b)) throw new GiveUp('binomial too large');
      return `combinations(${a},${b})`;
    }
    if (name === 'sqrt') {
      this.skipSpace();
      if (this.peek() === '[') {
        this.pos++;
        const n = this.expr(']');
        return `nthRoot(${this.arg()},${n})`;
      }
      return `sqrt(${this.arg()})`;
    }
    if (name === 'lfloor' || name === 'lceil') {
      const close = name === 'lfloor' ? '\\rfloor' : '\\rceil';
      const end = this.s.indexOf(close, this.pos);
      if (end < 0) throw new GiveUp('unclosed ' + name);
      const inner = convertLatex(this.s.slice(this.pos, end));
      if (inner === null) throw new GiveUp('bad floor/ceil');
      this.pos = end + close.length;
      return `${name === 'lfloor' ? 'floor' : 'ceil'}(${inner})`;
    }
    if (name === 'lvert') return `abs(${this.expr('|')})`;
    if (CONSTANTS[name]) return CONSTANTS[name];
    if (GREEK.has(name)) return `g_${name}`;
    const fn = FUNCTIONS[name];
    if (fn) {
      let base: string | null = null;
      let power: string | null = null;
      this.skipSpace();
      if (name === 'log' && this.peek() === '_') { this.pos++; base = this.arg(); this.skipSpace(); }
      if (this.peek() === '^') { this.pos++; power = this.exponent(); this.skipSpace(); }
      let argument: string;
      const c = this.peek();
      if (c === '(' || c === '[') { this.pos++; argument = this.expr(c === '(' ? ')' : ']'); }
      else if (c === '{') { this.pos++; argument = this.expr('}'); }
      else argument = this.bareArgument();
      const call = base !== null ? `log(${argument},${base})` : `${fn}(${argument})`;
      return power !== null ? `(${call})^${paren(power)}` : call;
    }
    throw new GiveUp(`unsupported command \\${name}`);
  }
}

/** mathjs expression text for a LaTeX scalar, or null when it cannot be converted faithfully. */
export function convertLatex(latex: string): string | null {
  const src = latex.replace(BARE_NAMES, '\\$1');
  try {
    return new Converter(src).convert();
  } catch (err) {
    if (err instanceof GiveUp) return null;
    throw err;
  }
}
