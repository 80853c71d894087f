/**
 * The flags several commands share, declared once so that their help reads the same everywhere:
 * where the log is (`--db`, `--table`) and `--json`.
 */
import { Option } from 'commander'

/** `--db`: a directory, or a PostgreSQL URL with `--table`. */
export const db = (): Option =>
  new Option(
    '--db <dir|url>',
    'the log directory, or a postgresql:// URL (with --table)',
  ).makeOptionMandatory()

/** `--db` for the commands that work on a directory only. */
export const dbDirectory = (): Option =>
  new Option('--db <dir>', 'the log directory').makeOptionMandatory()

/** `--table`: the table of a log on PostgreSQL. */
export const table = (): Option =>
  new Option('--table <name>', "the log's table, with a PostgreSQL URL in --db")

/** `--json`, described as `description`. */
export const json = (description = 'print JSON'): Option => new Option('--json', description)
