/**
 * Manipulation detector (design §12): a deterministic heuristic that scores the free-text
 * `argument` of an action for persuasion aimed at the rules themselves — "suspend the
 * constraint", emergency framing, ends-justify-the-means, appeals to authority, claimed
 * exceptions, pressure against oversight.
 *
 * Informational only. The score is reported as `manipulationScore`; it never permits and never
 * blocks by itself. The kernel decides from the typed action alone, which is precisely why an
 * argument cannot talk its way past an invariant; the score tells the humans reading the log
 * that someone tried.
 *
 * The scoring is additive over independent signal families (weights in hundredths, summed as
 * integers so the result is exact and identical on every platform), capped at 1. An explicit
 * demand to set a rule aside combined with emergency or greater-good framing reaches 1.0;
 * ordinary task text matches nothing and scores 0.
 */

/** Only this many characters are scanned; the action parser caps arguments at 10,000 anyway. */
const MAX_SCANNED = 20_000;

const OVERRIDE_VERBS = [
  "suspend\\w*",
  "overrid\\w*",
  "overrule\\w*",
  "bypass\\w*",
  "ignor\\w*",
  "disregard\\w*",
  "waiv\\w*",
  "disabl\\w*",
  "circumvent\\w*",
  "lift(?:ed|ing)?",
  "relax\\w*",
  "set aside",
  "put aside",
  "turn(?:ed|ing)? off",
  "switch(?:ed|ing)? off",
  "break(?:ing)?",
  "broken",
  "violat\\w*",
  "get(?:ting)? around",
  "work(?:ing)? around",
];
const OVERRIDE_OBJECTS = [
  "rules?",
  "constraints?",
  "axioms?",
  "restrictions?",
  "polic(?:y|ies)",
  "safeguards?",
  "guardrails?",
  "limits?",
  "limitations?",
  "invariants?",
  "verifier",
  "kernel",
  "safety",
  "checks?",
  "protocols?",
  "oversight",
  "permissions?",
  "prohibitions?",
];
const V = OVERRIDE_VERBS.join("|");
const O = OVERRIDE_OBJECTS.join("|");

interface Signal {
  readonly name: string;
  /** Hundredths. */
  readonly weight: number;
  readonly patterns: readonly RegExp[];
}

// Every pattern is built from the constants above, never from input, and uses only bounded
// windows, so matching is linear in the scanned text.
const SIGNALS: readonly Signal[] = [
  {
    name: "override-rule",
    weight: 70,
    patterns: [new RegExp(`\\b(?:${V})\\b[^.!?;]{0,60}?\\b(?:${O})\\b`), new RegExp(`\\b(?:${O})\\b[^.!?;]{0,60}?\\b(?:${V})\\b`)],
  },
  {
    name: "instruction-injection",
    weight: 90,
    patterns: [
      /\b(?:ignore|disregard|forget|override)\b (?:all |any |the |your |of )*(?:previous|prior|above|earlier|system|original) (?:instructions?|prompts?|rules|messages|directives?)\b/,
    ],
  },
  {
    name: "emergency",
    weight: 30,
    patterns: [
      /\b(?:emergenc(?:y|ies)|urgent\w*|crisis|life[- ]or[- ]death|immediately|no time|right now|critical situation|time[- ]sensitive|as soon as possible|asap|catastroph\w*)\b/,
    ],
  },
  {
    name: "ends-justify",
    weight: 30,
    patterns: [
      /\b(?:greater good|for the good of|common good|lesser evil|ends justify|outweighs?|collective (?:welfare|good|benefit|interest))\b/,
      /\b(?:prevent|avoid|stop)(?: \w+){0,2} (?:harm|deaths?|disaster|suffering)\b/,
      /\bsav(?:e|es|ing)(?: \w+){0,2} (?:lives|people)\b/,
    ],
  },
  {
    name: "appeal-to-authority",
    weight: 40,
    patterns: [
      /\bi am (?:your|the|an?) (?:developer|admin\w*|owner|creator|operator|supervisor|ceo|boss|manager)\b/,
      /\bon behalf of (?:the |your )?(?:admin\w*|owner|operator|ceo|developers?|management)\b/,
      /\b(?:ceo|admin\w*|operator|owner|management|security team|developers?) (?:has |have )?(?:approved|authori[sz]ed|ordered|instructed|demands?)\b/,
      /\bauthori[sz]ed by\b/,
      /\bwith (?:admin|root|elevated|full|special) (?:rights|privileges|access|clearance)\b/,
      /\bdirect order\b/,
    ],
  },
  {
    name: "claimed-exception",
    weight: 40,
    patterns: [
      /\bjust this once\b/,
      /\b(?:one[- ]time|special) exception\b/,
      /\b(?:make|grant|allow) an exception\b/,
      /\ban exception (?:to|for)\b/,
      /\b(?:does|do|should|must)(?:n't| not) apply\b/,
      /\bexempt\w*\b/,
      /\bthis case is different\b/,
    ],
  },
  {
    name: "anti-oversight",
    weight: 60,
    patterns: [
      /\b(?:human|owner|user) (?:oversight|approval|review|supervision|control|correction) (?:is |are )?(?:unnecessary|not needed|not required|optional|in the way|slowing)\b/,
      /\bwithout (?:human |owner |anyone's )?(?:approval|oversight|review|permission|asking|telling)\b/,
      /\b(?:don't|do not|no need to|never) (?:tell|inform|notify|ask|alert|report to) (?:the |your )?(?:owner|human|user|operator|admin\w*)\b/,
      /\bnobody (?:will|needs to|has to) know\b/,
    ],
  },
  {
    name: "machine-knows-better",
    weight: 50,
    patterns: [
      /\b(?:ai|machine|model|system|agent|you) (?:knows? better|should decide|(?:is|are) smarter|(?:has|have) superior judg\w*)\b/,
    ],
  },
  {
    name: "rights-as-obstacle",
    weight: 50,
    patterns: [
      /\bproperty rights?\b[^.!?;]{0,40}?\b(?:prevent\w*|block\w*|hinder\w*|obstruct\w*|in the way)\b/,
      /\brights can be (?:traded|waived|ignored|overridden|suspended)\b/,
      /\bsacrific\w* (?:\w+ )?rights\b/,
    ],
  },
];

const INVISIBLE = /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

function normalise(text: string): string {
  // NFKC folds look-alike compatibility forms (full-width letters, ligatures) so that
  // "ｓｕｓｐｅｎｄ" reads as "suspend"; invisible characters are dropped so they cannot split words.
  return text
    .slice(0, MAX_SCANNED)
    .normalize("NFKC")
    .replace(INVISIBLE, "")
    .toLowerCase()
    .replace(/[\u2018\u2019\u02BC]/g, "'")
    .replace(/\s+/g, " ");
}

export interface ManipulationReport {
  /** In [0, 1]. */
  readonly score: number;
  /** Names of the signal families found, in a fixed order. */
  readonly signals: readonly string[];
}

/**
 * Scores `argument` and names the signal families found. Returns `{ score: 0, signals: [] }` for
 * undefined, non-strings and text with no signal. Never throws.
 */
export function detectManipulation(argument: string | undefined): ManipulationReport {
  if (typeof argument !== "string" || argument.length === 0) return { score: 0, signals: [] };
  try {
    const text = normalise(argument);
    let total = 0;
    const found: string[] = [];
    for (const s of SIGNALS) {
      if (s.patterns.some((p) => p.test(text))) {
        total += s.weight;
        found.push(s.name);
      }
    }
    return { score: Math.min(100, total) / 100, signals: found };
  } catch {
    // Scoring is informational; a failure must not turn into a decision either way.
    return { score: 0, signals: [] };
  }
}

/**
 * The manipulation score of a free-text argument, in [0, 1]. Returns 0 for undefined,
 * non-strings and text with no signal. Never throws, never permits, never blocks.
 */
export function manipulationScore(argument: string | undefined): number {
  return detectManipulation(argument).score;
}
