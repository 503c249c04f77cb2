/**
 * Prometheus metrics of the API (`GET /metrics`): requests by route and status class with
 * their latency, chaincode events streamed, open event streams, and the process defaults.
 * Labels are route patterns (`/v1/patients/:patientId`), never ids.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly events: Counter<'event'>;
  readonly streams: Gauge;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'medbridge_api_' });
    this.requests = new Histogram({
      name: 'medbridge_api_request_duration_seconds',
      help: 'HTTP requests by route pattern and status class, with their duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.events = new Counter({
      name: 'medbridge_api_events_total',
      help: 'chaincode events received for the event stream, by name',
      labelNames: ['event'],
      registers: [this.registry],
    });
    this.streams = new Gauge({ name: 'medbridge_api_event_streams', help: 'open event stream connections', registers: [this.registry] });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: `${Math.floor(status / 100)}xx` }, seconds);
  }

  event(name: string): void {
    this.events.inc({ event: name });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
