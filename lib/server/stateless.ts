import "server-only";
import { ApiError } from "./errors";

export async function statelessVerify(_body: unknown): Promise<unknown> {
  throw new ApiError("SERVICE_UNAVAILABLE", "pending wire module");
}
