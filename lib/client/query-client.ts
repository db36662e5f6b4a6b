/** The one react-query client factory of the console. */
import { QueryClient } from "@tanstack/react-query";
import { ApiRequestError } from "./api";

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        refetchOnWindowFocus: true,
        // A 4xx will not change by asking again; network and 5xx get two more tries.
        retry: (count, error) => !(error instanceof ApiRequestError && error.status >= 400 && error.status < 500) && count < 2,
      },
      mutations: { retry: false },
    },
  });
}
