"use client";
import { useEffect } from "react";

/** A short confirmation that goes away by itself (or on click). */
export function Toast({ message, onDone }: { message: string | null; onDone: () => void }) {
  useEffect(() => {
    if (!message) return;
    const t = setTimeout(onDone, 6000);
    return () => clearTimeout(t);
  }, [message, onDone]);
  if (!message) return null;
  return (
    <div className="toast" role="status" onClick={onDone}>
      {message}
    </div>
  );
}
