// The public surface, as a checked file: every name each entry point exports, with its kind.
// A change to the surface is a visible diff of test/api/exports.txt; after a deliberate change,
// `UPDATE_API=1 npx vitest run test/api` rewrites it.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const reportPath = fileURLToPath(new URL('exports.txt', import.meta.url))

interface PackageJson {
  readonly exports: Record<string, string | { readonly types?: string }>
}

/** The package's entry points (from package.json `exports`) and the source file of each. */
const entryPoints = (): ReadonlyArray<{ readonly name: string; readonly source: string }> => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as PackageJson
  return Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === 'object' && target.types !== undefined)
    .map(([subpath, target]) => ({
      name: subpath === '.' ? 'deltalog' : `deltalog/${subpath.slice(2)}`,
      source: (target as { types: string }).types
        .replace(/^\.\/dist\//, 'src/')
        .replace(/\.d\.ts$/, '.ts'),
    }))
}

// `export type { X }` exports only the type side of X, whatever else X declares.
const isTypeOnly = (symbol: ts.Symbol): boolean =>
  symbol.declarations?.some(
    (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
  ) === true

const kindOf = (symbol: ts.Symbol, checker: ts.TypeChecker): string => {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
  const f = isTypeOnly(symbol)
    ? target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)
    : target.flags
  if (f & ts.SymbolFlags.Class) return 'class'
  if (f & ts.SymbolFlags.Function) return 'function'
  if (f & ts.SymbolFlags.Variable) {
    const declaration = target.valueDeclaration
    const type = declaration === undefined ? undefined : checker.getTypeAtLocation(declaration)
    const callable = type !== undefined && type.getCallSignatures().length > 0
    return f & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface)
      ? callable
        ? 'function+type'
        : 'const+type'
      : callable
        ? 'function'
        : 'const'
  }
  if (f & ts.SymbolFlags.Interface) return 'interface'
  if (f & ts.SymbolFlags.TypeAlias) return 'type'
  if (f & ts.SymbolFlags.Enum) return 'enum'
  return 'other'
}

/** One line per export: `entry  name  kind`, sorted, with a count per entry point. */
const report = (): string => {
  const entries = entryPoints()
  const program = ts.createProgram(
    entries.map((e) => `${root}/${e.source}`),
    {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
    },
  )
  const checker = program.getTypeChecker()
  const lines: string[] = []
  for (const entry of entries) {
    const file = program.getSourceFile(`${root}/${entry.source}`)
    const module = file === undefined ? undefined : checker.getSymbolAtLocation(file)
    const exports = module === undefined ? [] : checker.getExportsOfModule(module)
    lines.push(`## ${entry.name} (${entry.source}): ${exports.length} names`)
    for (const name of exports.map((s) => `${s.getName()}  ${kindOf(s, checker)}`).sort()) {
      lines.push(name)
    }
    lines.push('')
  }
  return lines.join('\n')
}

it('the exports of every entry point are the ones in test/api/exports.txt', () => {
  const actual = report()
  if (process.env.UPDATE_API === '1') writeFileSync(reportPath, actual)
  expect(actual).toBe(readFileSync(reportPath, 'utf8'))
}, 60_000)
