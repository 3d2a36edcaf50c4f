/**
 * ESLint rule: a promise rejection handler that drops the error — `.catch(() => undefined)`,
 * `.then(ok, () => {})`, `.catch(() => [])`: it never reads the error and only yields a fixed value —
 * needs a comment saying why dropping it is right, on the line above the statement, on the line of
 * the handler, or inside it. Without one, a failure disappears without a trace.
 */

/** An expression that is a fixed value: a literal, `undefined`, `void 0`, `[]`, `{}` (type assertions aside). */
function isConstant(e) {
  while (e.type === 'TSAsExpression' || e.type === 'TSSatisfiesExpression') e = e.expression;
  if (e.type === 'Literal' || (e.type === 'Identifier' && e.name === 'undefined')) return true;
  if (e.type === 'UnaryExpression' && e.operator === 'void') return isConstant(e.argument);
  if (e.type === 'ArrayExpression') return e.elements.length === 0;
  if (e.type === 'ObjectExpression') return e.properties.length === 0;
  return false;
}

/**
 * A handler that does nothing with the failure: it returns a fixed value (or nothing) and never
 * reads the error. One that counts, evicts or rethrows does something and is left alone.
 */
function dropsError(fn, sourceCode) {
  if (fn.type !== 'ArrowFunctionExpression' && fn.type !== 'FunctionExpression') return false;
  const [param] = fn.params;
  if (param) {
    if (param.type !== 'Identifier') return false;
    const variable = sourceCode.getDeclaredVariables(fn).find((v) => v.name === param.name);
    if (!variable || variable.references.length > 0) return false;
  }
  if (fn.body.type !== 'BlockStatement') return isConstant(fn.body);
  const [only, ...more] = fn.body.body;
  if (more.length > 0) return false;
  return !only || (only.type === 'ReturnStatement' && (!only.argument || isConstant(only.argument)));
}

function statementOf(node) {
  let n = node;
  while (n.parent && !/(Statement|Declaration)$/.test(n.type)) n = n.parent;
  return n;
}

/** @type {import('eslint').Rule.RuleModule} */
export const explainedCatch = {
  meta: {
    type: 'problem',
    docs: { description: 'A promise rejection handler that drops the error must say why in a comment' },
    schema: [],
    messages: {
      unexplained:
        'This handler drops the error silently. Report it (log, event), await the promise, or say in a comment ' +
        'on the line above why dropping it is right.',
    },
  },
  create(context) {
    const sourceCode = context.sourceCode;
    const comments = sourceCode.getAllComments();
    const explained = (handler) => {
      const handlerLine = handler.loc.start.line;
      const statementLine = statementOf(handler).loc.start.line;
      return comments.some(
        (c) =>
          c.loc.end.line === statementLine - 1 ||
          c.loc.end.line === handlerLine - 1 ||
          c.loc.start.line === handlerLine ||
          (c.range[0] >= handler.range[0] && c.range[1] <= handler.range[1]),
      );
    };
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return;
        const handler =
          callee.property.name === 'catch'
            ? node.arguments[0]
            : callee.property.name === 'then'
              ? node.arguments[1]
              : undefined;
        if (!handler || !dropsError(handler, sourceCode) || explained(handler)) return;
        context.report({ node: handler, messageId: 'unexplained' });
      },
    };
  },
};
