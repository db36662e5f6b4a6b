/**
 * Demo data for a fresh installation. Filled in by the decision-service layer; until accounts
 * exist there is nothing to seed, and this says so instead of pretending.
 */
export async function seedIfEmpty(): Promise<void> {
  // Intentionally empty until the registry models are served (issue 4).
}
