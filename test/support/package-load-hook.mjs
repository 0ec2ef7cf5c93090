// Module resolve hook (module.register) for package-exports.test.ts: reports on stderr, one
// `PACKAGE <name>` line each, every bare specifier resolved while it is registered.
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (!/^(?:\.|\/|node:|file:|data:)/.test(specifier)) process.stderr.write(`PACKAGE ${specifier}\n`);
  return result;
}
