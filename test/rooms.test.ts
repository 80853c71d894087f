// One concept per room, kept so: no source file past about 350 lines and no function past about
// 80 (the style guide's limits, with a little slack). A file or function that grows past them
// usually holds two ideas: split it where a reader would look for them (docs/architecture.md).
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { expect, it } from 'vitest'

const MAX_FILE_LINES = 360
const MAX_FUNCTION_LINES = 85

const root = fileURLToPath(new URL('..', import.meta.url))
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? sources(join(dir, d.name))
      : d.name.endsWith('.ts')
        ? [join(dir, d.name)]
        : [],
  )
const files = sources(join(root, 'src'))

const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0)

it('keeps every source file under about 350 lines', () => {
  const long = files
    .map((f) => ({ file: relative(root, f), lines: lineCount(readFileSync(f, 'utf8')) }))
    .filter((f) => f.lines > MAX_FILE_LINES)
  expect(long).toEqual([])
})

it('keeps every function under about 80 lines', () => {
  const long: string[] = []
  for (const f of files) {
    const source = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node): void => {
      if (
        ts.isFunctionDeclaration(node) ||
        ts.isFunctionExpression(node) ||
        ts.isArrowFunction(node) ||
        ts.isMethodDeclaration(node)
      ) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
        if (end - start + 1 > MAX_FUNCTION_LINES) {
          long.push(`${relative(root, f)}:${start + 1} (${end - start + 1} lines)`)
        }
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  expect(long).toEqual([])
})
