"use client";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { KeysResponse, SessionResponse } from "@/lib/contracts";
import { apiRequest, errorMessage } from "@/lib/client/api";
import { pinOnFirstSignIn } from "@/lib/client/pinned-key";

export function LoginForm({ next }: { next: string }) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await apiRequest("/session", SessionResponse, { method: "POST", body: { email, password } });
      // Trust on first use: the kernel's signing key is pinned in this browser at the first sign-in
      // and audit records are verified against that pin from then on (see the Audit page).
      try {
        pinOnFirstSignIn((await apiRequest("/keys", KeysResponse)).keys);
      } catch {
        // The audit page asks for a key when none is pinned; sign-in does not depend on it.
      }
      router.replace(next);
      router.refresh();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="Sign in">
      <label className="field">
        <span>Email</span>
        <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>Password</span>
        <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {error ? (
        <div className="callout callout-bad" role="alert">
          {error === "wrong email or password" ? "Wrong email or password." : error}
        </div>
      ) : null}
      <button type="submit" className="btn-primary" disabled={busy} style={{ width: "100%", justifyContent: "center", padding: "8px 12px" }}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
