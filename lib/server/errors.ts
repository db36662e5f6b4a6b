import "server-only";
import type { ErrorCode } from "../contracts";

/**
 * The one error type route handlers throw. `code` is a closed union (lib/contracts ERROR_CODES);
 * `httpStatus` maps it in one place; the message is meant for the client, so it never carries
 * internals (those go to the log).
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function httpStatus(code: ErrorCode): number {
  switch (code) {
    case "BAD_REQUEST":
    case "VALIDATION_FAILED":
      return 400;
    case "UNAUTHENTICATED":
      return 401;
    case "FORBIDDEN":
    case "CSRF_FAILED":
      return 403;
    case "NOT_FOUND":
      return 404;
    case "CONFLICT":
    case "PERMIT_REUSED":
      return 409;
    case "PAYLOAD_TOO_LARGE":
      return 413;
    case "UNSUPPORTED_MEDIA_TYPE":
      return 415;
    case "GRANT_REFUSED":
    case "NOT_APPROVABLE":
    case "PROPOSAL_REFUSED":
    case "PERMIT_INVALID":
      return 422;
    case "RATE_LIMITED":
      return 429;
    case "SERVICE_UNAVAILABLE":
      return 503;
    case "INTERNAL_ERROR":
      return 500;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

export const notFound = (what: string) => new ApiError("NOT_FOUND", `${what} not found`);
export const forbidden = (message = "not allowed") => new ApiError("FORBIDDEN", message);
