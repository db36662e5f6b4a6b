// autocannon ships no types; only what bench/api.ts uses.
declare module "autocannon" {
  interface Histogram { average: number; total: number; p50: number; p90: number; p99: number; max: number }
  interface Result { requests: Histogram; latency: Histogram; errors: number; timeouts: number; non2xx: number; /** seconds */ duration: number }
  interface RequestParams { method?: string; path?: string; headers?: Record<string, string>; body?: string }
  interface RequestSpec extends RequestParams { setupRequest?: (req: RequestParams) => RequestParams }
  interface Options { url: string; method?: string; headers?: Record<string, string>; body?: string; requests?: RequestSpec[]; connections?: number; duration?: number }
  export default function autocannon(options: Options): Promise<Result>;
}
