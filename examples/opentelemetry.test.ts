// deltalog's tracing channels wired to OpenTelemetry: a span per operation and a histogram of
// durations, exported to memory and checked (docs/observability.md shows this file).
import dc from 'node:diagnostics_channel'
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { expect, test } from 'vitest'
import { CHANNEL_NAMES, openLog, openMemoryStorage, type TraceContext } from 'deltalog'

// Where the spans and the histogram go: memory here, an OTLP exporter in production.
const spans = new InMemorySpanExporter()
const tracer = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spans)],
}).getTracer('deltalog')
const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const reader = new PeriodicExportingMetricReader({ exporter: metrics })
const durations = new MeterProvider({ readers: [reader] })
  .getMeter('deltalog')
  .createHistogram('deltalog.duration', { unit: 'ms' })

// The context's counts, names and flags become the span's attributes.
const attributesOf = (context: TraceContext): Attributes =>
  Object.fromEntries(
    Object.entries(context).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)),
  )

// Every channel: a span from `start` to `asyncEnd`, failed with the error's code on `error`.
const open = new WeakMap<object, { readonly span: Span; readonly started: number }>()
for (const name of Object.values(CHANNEL_NAMES)) {
  dc.tracingChannel<unknown, TraceContext>(name).subscribe({
    start: (context) =>
      open.set(context, { span: tracer.startSpan(name), started: performance.now() }),
    end: () => undefined,
    asyncStart: () => undefined,
    error: (context) =>
      open
        .get(context)
        ?.span.setStatus({ code: SpanStatusCode.ERROR, message: context.code ?? '' }),
    asyncEnd: (context) => {
      const { span, started } = open.get(context) ?? {}
      if (span === undefined || started === undefined) return
      span.setAttributes(attributesOf(context)).end()
      durations.record(performance.now() - started, { operation: name, error: context.code ?? '' })
    },
  })
}

test('each log operation becomes a span, and its duration a histogram point', async () => {
  const log = await openLog({ storage: await openMemoryStorage(), durability: 'buffered' })
  await log.append([{ key: 'order-1', value: 'placed' }])
  await log.append([{ key: 'order-1', value: 'paid' }])
  await log.flush()
  await log.truncateBefore(1)
  await expect(log.append([{ key: '', value: 'no key' }])).rejects.toThrow()
  await log.close()

  const finished = spans.getFinishedSpans()
  const named = (name: string) => finished.filter((span) => span.name === name)
  expect(named('deltalog:append')).toHaveLength(3)
  expect(named('deltalog:commit')[0]?.attributes).toMatchObject({
    log: 'memory',
    appends: 1,
    sync: true,
  })
  expect(named('deltalog:write').length).toBeGreaterThanOrEqual(2)
  expect(named('deltalog:sync')).toHaveLength(1)
  expect(named('deltalog:truncate')[0]?.attributes).toMatchObject({ before: 1, result: 1 })
  const [refused] = named('deltalog:append').filter((s) => s.status.code === SpanStatusCode.ERROR)
  expect(refused?.attributes).toMatchObject({ code: 'INVALID_ARGUMENT' })

  await reader.forceFlush()
  const [histogram] = metrics.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
  const appends = histogram?.dataPoints.find((p) => p.attributes['operation'] === 'deltalog:append')
  expect(appends?.value).toMatchObject({ count: 2 })
})
