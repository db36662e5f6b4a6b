"use client";
import { useEffect, useId, useRef, type ReactNode } from "react";

/** A modal dialog: labelled, traps initial focus, closes on Escape and on the backdrop. */
export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const first = ref.current?.querySelector<HTMLElement>("input, select, textarea, button:not([data-close])");
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} className="dialog" role="dialog" aria-modal="true" aria-labelledby={id} style={wide ? { maxWidth: 760 } : undefined}>
        <h2 id={id}>{title}</h2>
        {children}
      </div>
    </div>
  );
}

/** The Cancel / submit row of a form dialog. */
export function DialogActions({ onClose, submitLabel, disabled }: { onClose: () => void; submitLabel: string; disabled: boolean }) {
  return (
    <div className="dialog-actions">
      <button type="button" data-close onClick={onClose}>
        Cancel
      </button>
      <button type="submit" className="btn-primary" disabled={disabled}>
        {submitLabel}
      </button>
    </div>
  );
}

/** Asks before something consequential; says what will happen in plain words. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog title={title} onClose={onCancel}>
      <div>{children}</div>
      {error ? (
        <div className="callout callout-bad" role="alert">
          {error}
        </div>
      ) : null}
      <div className="dialog-actions">
        <button type="button" data-close onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={danger ? "btn-danger" : "btn-primary"} disabled={busy} onClick={onConfirm}>
          {busy ? "Working…" : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
