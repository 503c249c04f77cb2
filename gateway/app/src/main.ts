/**
 * The patient app (gateway/APP.md): Preact + htm, no build-time templates. Every action that
 * changes or reads the patient's consent data is signed on this device (api.ts, keys.ts).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { CONSENT_ACTIONS, Formats, PURPOSES_OF_USE, type AccessLogEntry, type ConsentTerms, type RecordLabels } from '@medbridge/chaincode';
import { api, ApiRefusal, type ConsentView, type Hospital, type PatientView, type RecordView } from './api';
import { createKey, forgetKey, loadKey, MIN_PASSPHRASE, nextKey, openBackup, restoreKey, useKey, type DeviceKey, type KeyBackup } from './keys';
import { makePseudonymLink } from './links';
import { CATEGORY_WORDS, consentPlacement, dateWords, EXCEPT_LABELS, exceptionPolicy, exceptionSummary, grantSummary, keeperWords, LABEL_WORDS, policyPlacement, policyWords, labelWords, logWords, prepareFhirGrant, PURPOSE_WORDS, statusWords, unreachableWords, type FhirGrant } from './summary';

type View = 'key' | 'enrol' | 'records' | 'share' | 'consents' | 'log' | 'guardian' | 'link' | 'backup';
const VIEWS: Array<[View, string]> = [
  ['key', 'My key'],
  ['enrol', 'Enrol'],
  ['records', 'My records'],
  ['share', 'Share'],
  ['consents', 'My consents'],
  ['log', 'Access log'],
  ['guardian', 'Guardian'],
  ['link', 'My other ids'],
  ['backup', 'Backup'],
];
const DAY = 86_400_000;

type Notice = { tone: 'ok' | 'error' | 'busy'; text: string } | undefined;

/** The first sentence of the grant's summary: who, what, why, until when. */
const grantLine = (t: ConsentTerms) => grantSummary(t).split('. ')[0] ?? '';

const explain = (e: unknown) => (e instanceof ApiRefusal ? e.message : e instanceof Error ? e.message : String(e));

function App() {
  const [key, setKey] = useState<DeviceKey | undefined>();
  const [loaded, setLoaded] = useState(false);
  const [hospital, setHospital] = useState<Hospital | undefined>();
  const [view, setView] = useState<View>('key');
  const [notice, setNotice] = useState<Notice>();
  const [backupUrl, setBackupUrl] = useState<string | undefined>();

  useEffect(() => {
    void loadKey().then((k) => {
      setKey(k);
      setLoaded(true);
      if (k) setView(/#enrol=/.test(location.hash) ? 'enrol' : 'consents');
    });
    api.hospital().then(setHospital, (e: unknown) => setNotice({ tone: 'error', text: `The hospital does not answer: ${explain(e)}` }));
  }, []);

  /** Runs an action with a spoken status line. */
  const act = async <T,>(busy: string, run: () => Promise<T>, done: (r: T) => string): Promise<T | undefined> => {
    setNotice({ tone: 'busy', text: busy });
    try {
      const r = await run();
      setNotice({ tone: 'ok', text: done(r) });
      return r;
    } catch (e) {
      setNotice({ tone: 'error', text: explain(e) });
      return undefined;
    }
  };

  /** Loads data for a view: says nothing unless it fails (the last action's words stay). */
  const load = async (run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (e) {
      setNotice({ tone: 'error', text: explain(e) });
    }
  };

  const ctx = { device: key, hospital, act, load, setKey, setView, setBackupUrl, backupUrl };
  const body = !loaded
    ? html`<p>Opening your key…</p>`
    : !key || view === 'key'
      ? html`<${KeyView} ...${ctx} />`
      : view === 'enrol'
        ? html`<${EnrolView} ...${ctx} />`
        : view === 'records'
          ? html`<${RecordsView} ...${ctx} />`
          : view === 'share'
            ? html`<${ShareView} ...${ctx} />`
            : view === 'consents'
              ? html`<${ConsentsView} ...${ctx} />`
              : view === 'log'
                ? html`<${LogView} ...${ctx} />`
                : view === 'guardian'
                  ? html`<${GuardianView} ...${ctx} />`
                  : view === 'link'
                    ? html`<${LinkView} ...${ctx} />`
                    : html`<${BackupView} ...${ctx} />`;

  return html`
    <header>
      <h1>medbridge <span class="sub">my health data</span></h1>
      <p class="where">${hospital ? html`Connected to <strong>${hospital.mspId}</strong> (chain ${hospital.chainId})` : 'Connecting…'}</p>
    </header>
    ${key &&
    html`<nav aria-label="Sections">
      ${VIEWS.map(([v, label]) => html`<button type="button" class="tab" aria-current=${view === v ? 'page' : undefined} onClick=${() => setView(v)}>${label}</button>`)}
    </nav>`}
    <p class=${`notice ${notice?.tone ?? ''}`} role="status" aria-live="polite">${notice?.text ?? ''}</p>
    <main id="main">${body}</main>
    <footer>Your private key stays on this device. The hospital carries what you sign; it cannot sign for you.</footer>
  `;
}

interface Ctx {
  /** The device's key (not `key`: Preact keeps that prop name for itself). */
  device?: DeviceKey;
  hospital?: Hospital;
  backupUrl?: string;
  act: <T>(busy: string, run: () => Promise<T>, done: (r: T) => string) => Promise<T | undefined>;
  load: (run: () => Promise<void>) => Promise<void>;
  setKey: (k: DeviceKey | undefined) => void;
  setView: (v: View) => void;
  setBackupUrl: (u: string | undefined) => void;
}

function backupLink(b: KeyBackup): string {
  return URL.createObjectURL(new Blob([JSON.stringify(b, null, 1)], { type: 'application/json' }));
}

function KeyView({ device: key, act, setKey, setView, setBackupUrl, backupUrl }: Ctx) {
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const [restorePass, setRestorePass] = useState('');
  if (key) {
    return html`<section aria-labelledby="key-h">
      <h2 id="key-h">My key</h2>
      <dl class="facts">
        <dt>Patient id</dt><dd class="mono" data-testid="patient-id">${key.patientId}</dd>
        <dt>Created</dt><dd>${new Date(key.createdAt).toLocaleString('en-GB')}</dd>
        <dt>Stored</dt><dd>in this browser, not extractable: it signs here and cannot be copied out</dd>
      </dl>
      ${backupUrl && html`<p class="callout">Save your backup file now: <a href=${backupUrl} download="medbridge-key-backup.json">Download my key backup</a>. Without it and this device, nobody can act for you (see Backup).</p>`}
      <button type="button" onClick=${() => setView('enrol')}>Continue to enrolment</button>
    </section>`;
  }
  const create = async (ev: Event) => {
    ev.preventDefault();
    if (pass !== again) return void act('', () => Promise.reject(new Error('the two passphrases differ')), () => '');
    const made = await act('Creating your key and its encrypted backup…', () => createKey(pass), (r) => `Your key is ready: ${r.key.patientId.slice(0, 15)}…`);
    if (!made) return;
    setBackupUrl(backupLink(made.backup));
    setKey(made.key);
  };
  const restore = async (ev: Event) => {
    ev.preventDefault();
    if (!file) return;
    const k = await act('Opening the backup…', async () => restoreKey(await file.text(), restorePass), (r) => `Key restored: ${r.patientId.slice(0, 15)}…`);
    if (k) {
      setKey(k);
      setView('consents');
    }
  };
  return html`<section aria-labelledby="new-h">
      <h2 id="new-h">Create my key</h2>
      <p>Your key is made in this browser and never leaves it. Choose a passphrase for its backup file: you need both the file and the passphrase to get the key back on another device.</p>
      <form onSubmit=${create}>
        <label for="pass">Backup passphrase (at least ${MIN_PASSPHRASE} characters)</label>
        <input id="pass" type="password" autocomplete="new-password" minlength=${MIN_PASSPHRASE} required value=${pass} onInput=${(e: Event) => setPass((e.target as HTMLInputElement).value)} />
        <label for="pass2">Passphrase again</label>
        <input id="pass2" type="password" autocomplete="new-password" minlength=${MIN_PASSPHRASE} required value=${again} onInput=${(e: Event) => setAgain((e.target as HTMLInputElement).value)} />
        <button type="submit">Create my key</button>
      </form>
    </section>
    <section aria-labelledby="restore-h">
      <h2 id="restore-h">Restore from a backup</h2>
      <form onSubmit=${restore}>
        <label for="backup-file">Backup file</label>
        <input id="backup-file" type="file" accept="application/json,.json" required onChange=${(e: Event) => setFile((e.target as HTMLInputElement).files?.[0])} />
        <label for="restore-pass">Passphrase</label>
        <input id="restore-pass" type="password" autocomplete="current-password" required value=${restorePass} onInput=${(e: Event) => setRestorePass((e.target as HTMLInputElement).value)} />
        <button type="submit">Restore my key</button>
      </form>
    </section>`;
}

function EnrolView({ device: key, hospital, act, setView }: Ctx) {
  const fromLink = /#enrol=([0-9A-Za-z-]+)/.exec(location.hash)?.[1] ?? '';
  const [code, setCode] = useState(fromLink);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!key) return;
    const r = await act('Registering your key at the hospital…', () => api.enrol(code.trim(), key), (res) => `Enrolled at ${hospital?.mspId ?? 'the hospital'}: your key is registered (transaction ${res.txId.slice(0, 12)}…).`);
    if (r) {
      history.replaceState(null, '', location.pathname);
      setView('records');
    }
  };
  return html`<section aria-labelledby="enrol-h">
    <h2 id="enrol-h">Enrol at ${hospital?.mspId ?? 'the hospital'}</h2>
    <p>The hospital gives you a one-time code (on screen or on paper). Enter it to register this device's key as yours. Only your public key is sent.</p>
    <form onSubmit=${submit}>
      <label for="code">Enrolment code</label>
      <input id="code" autocomplete="one-time-code" autocapitalize="characters" placeholder="XXXX-XXXX-XXXX" required value=${code} onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value)} />
      <button type="submit">Enrol with this code</button>
    </form>
  </section>`;
}

function usePatientData(key: DeviceKey | undefined, load: Ctx['load']) {
  const [patient, setPatient] = useState<PatientView | undefined>();
  const [consents, setConsents] = useState<ConsentView[] | undefined>();
  const reload = async () => {
    if (!key) return;
    await load(async () => {
      const [p, c, kept] = await Promise.all([api.patient(key), api.consents(key), api.privateConsents(key)]);
      setPatient(p);
      setConsents([...c.items, ...kept]);
    });
  };
  useEffect(() => void reload(), [key?.patientId]);
  return { patient, consents, reload };
}

/** A consent's state on another chain, in words: a sealed share says what arrived there. */
function chainWords(x: NonNullable<ConsentView['chains']>[number]): string {
  if (x.delivery === 'failed') return `refused (${x.error ?? ''})`;
  if (x.effectiveStatus) return x.sealed ? `${statusWords(x.effectiveStatus)} (shared sealed: only the organisation it is for can read it there)` : statusWords(x.effectiveStatus);
  if (x.delivery === 'sent') return x.sealed?.carries === 'revocation' ? 'revocation on its way' : 'on its way';
  return x.delivery;
}

/** Who a consent v2 can reach, in words. */
function policyGrantees(c: ConsentView): string {
  const g = c.grantees ?? [];
  return g.includes('*') ? 'any hospital your policy permits' : g.join(', ');
}

/** A consent v2 in words, each exception under the rule it breaks. */
function policyLine(c: ConsentView): string {
  return c.policy ? policyWords(c.policy) : 'A consent policy';
}

function RecordsView({ device: key, hospital, load }: Ctx) {
  const { patient, consents, reload } = usePatientData(key, load);
  const [records, setRecords] = useState<RecordView[] | undefined>();
  // The labels this hospital keeps privately for the records it holds, read with a records.read signed here.
  const [labels, setLabels] = useState<Map<string, RecordLabels | null>>(new Map());
  const reloadRecords = async () => {
    if (!key) return;
    await load(async () => setRecords((await api.records(key)).items));
    if (hospital) await load(async () => setLabels(new Map((await api.recordLabels(hospital, key)).items.map((i) => [i.recordId, i.metadata]))));
  };
  useEffect(() => void reloadRecords(), [key?.patientId]);
  // Who each record is shared with: the consents that name it or cover its category.
  const sharedWith = (r: RecordView) =>
    (consents ?? [])
      .filter((c) => (c.terms ? c.terms.scope.recordIds.includes(r.recordId) || c.terms.scope.categories.includes(r.category) : c.policy !== undefined))
      .map((c) => `${c.grantee ?? policyGrantees(c)} (${statusWords(c.effectiveStatus)})`);
  return html`<section aria-labelledby="rec-h">
    <h2 id="rec-h">My records and who holds them</h2>
    <h3>Hospitals that hold records of yours</h3>
    ${patient ? html`<ul class="plain">${patient.registeredBy.map((o) => html`<li><strong>${o}</strong> keeps your records and anchors each version on chain</li>`)}</ul>` : html`<p>…</p>`}
    <h3>Your records on ${hospital?.chainId ?? 'this chain'}</h3>
    <button type="button" onClick=${() => void Promise.all([reload(), reloadRecords()])}>Refresh</button>
    ${records === undefined
      ? html`<p>…</p>`
      : records.length === 0
        ? html`<p>No record of yours is anchored on this chain yet.</p>`
        : html`<ul class="cards" aria-label="Your records">
            ${records.map(
              (r) => html`<li class="card record" data-record=${r.recordId}>
                <p><strong>${CATEGORY_WORDS[r.category] ?? r.category}</strong> (${r.category}) <span class="mono">${r.recordId}</span></p>
                <p>Held by <strong>${r.custodian}</strong>; version ${r.version}, first recorded ${dateWords(r.anchoredAt)}${r.version > 1 ? `, updated ${dateWords(r.updatedAt)}` : ''}.</p>
                ${labels.has(r.recordId)
                  ? html`<p class="labels">Labels: ${labelWords(labels.get(r.recordId)?.securityLabels ?? [])}${labels.get(r.recordId) ? `; data from ${dateWords((labels.get(r.recordId) as RecordLabels).dataDate)}` : ''}. A consent can leave out records by label.</p>`
                  : ''}
                <p>${sharedWith(r).length > 0 ? `Shared with ${sharedWith(r).join(', ')}.` : 'Not shared with anyone.'}</p>
              </li>`,
            )}
          </ul>`}
  </section>`;
}

function ShareView({ device: key, hospital, act, setView }: Ctx) {
  const [grantee, setGrantee] = useState('');
  const [purpose, setPurpose] = useState<string>('TREAT');
  const [records, setRecords] = useState('');
  const [cats, setCats] = useState<string[]>([]);
  const [days, setDays] = useState(30);
  // "Everything except": labels kept out make the grant a consent v2 policy (deny, permit, deny).
  const [except, setExcept] = useState<string[]>([]);
  // Private by default: kept at this hospital (always, for a patient it registered privately; a patient
  // registered publicly may untick it); a grantee on another chain gets a sealed share of it.
  const [keepPrivate, setKeepPrivate] = useState(true);
  const [heldPrivately, setHeldPrivately] = useState(true);
  useEffect(() => {
    if (key) void api.patient(key).then((p) => setHeldPrivately(p.heldPrivately === true), () => undefined);
  }, [key?.patientId]);
  const [terms, setTerms] = useState<ConsentTerms | undefined>();
  // Or a FHIR Consent file, mapped on this device (never by the hospital) into the policy signed.
  const [fhir, setFhir] = useState<(FhirGrant & { file: string }) | undefined>();
  const placement = !hospital ? undefined : fhir ? policyPlacement(hospital, fhir.policy, { heldPrivately }) : consentPlacement(hospital, terms?.grantee ?? grantee, { heldPrivately });
  const keeper = hospital && (keepPrivate || !placement?.canChoosePublic) ? hospital.mspId : undefined;
  const keepBox =
    placement?.canChoosePublic &&
    html`<label class="check"
      ><input id="keep-private" type="checkbox" checked=${keepPrivate} onChange=${(e: Event) => setKeepPrivate((e.target as HTMLInputElement).checked)} /> Keep this consent private at ${hospital?.mspId}</label
    >`;
  const unreachable = hospital && placement ? unreachableWords(hospital, placement) : '';
  const whereItLives = html`${placement && (keeper ? html`<p class="summary" data-testid="grant-keeper">${placement.keptWords}.</p>` : html`<p class="summary" data-testid="grant-public">${placement.publicWords}.</p>`)}
  ${unreachable && html`<p class="callout" data-testid="share-unreachable">${unreachable}.</p>`}`;
  /** Signs and submits the grant, then asks the hospital to carry it to each grantee's chain. */
  const grantAndCarry = async (device: DeviceKey, grant: () => Promise<{ consentId: string; result: ConsentView }>) => {
    const res = await grant();
    const carried: string[] = [];
    for (const chainId of placement?.shareTo ?? []) {
      await api.share(device, res.consentId, chainId);
      carried.push(chainId);
    }
    return { ...res, carried };
  };
  const sharedWords = (res: { consentId: string; result: ConsentView; carried: string[] }) =>
    `Shared: consent ${res.consentId.slice(0, 14)}… is ${res.result.effectiveStatus}${res.carried.length > 0 ? `, and on its way to ${res.carried.join(', ')}` : ''}.`;
  const openFhir = async (ev: Event) => {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const read = async () => ({ ...prepareFhirGrant(await file.text(), { now: Date.now() - 60_000, days }), file: file.name });
    const r = await act('Reading the file on this device…', read, (g) => `Read ${g.file} (FHIR ${g.version}): check what it says before you sign.`);
    if (r) setFhir(r);
  };
  const review = (ev: Event) => {
    ev.preventDefault();
    const start = Date.now() - 60_000;
    const recordIds = records.split(/[\s,]+/).filter(Boolean);
    const bad = recordIds.find((r) => !Formats.recordId.test(r));
    if (bad) return void act('', () => Promise.reject(new Error(`"${bad}" is not a record id`)), () => '');
    if (recordIds.length === 0 && cats.length === 0) return void act('', () => Promise.reject(new Error('choose at least one record or kind of record')), () => '');
    setTerms({ grantee: grantee.trim(), scope: { recordIds, categories: cats }, actions: [...CONSENT_ACTIONS], purposes: [purpose], period: { start, end: start + days * DAY } });
  };
  const sign = async () => {
    if (!key || !hospital || !terms) return;
    const submit = () => grantAndCarry(key, () => (except.length > 0 ? api.grantPolicy(hospital, key, exceptionPolicy(terms, except), keeper) : api.grant(hospital, key, terms, keeper)));
    const r = await act('Signing on this device and submitting…', submit, sharedWords);
    if (r) setView('consents');
  };
  const signFhir = async () => {
    if (!key || !hospital || !fhir) return;
    const r = await act('Signing on this device and submitting…', () => grantAndCarry(key, () => api.grantPolicy(hospital, key, fhir.policy, keeper)), sharedWords);
    if (r) setView('consents');
  };
  if (fhir) {
    const filled = fhir.periodFilled.map((b) => (b === 'start' ? 'no start date: it starts now' : `no end date: it ends after the ${days} days you chose`));
    return html`<section aria-labelledby="fhir-h">
      <h2 id="fhir-h">Check before you sign</h2>
      <p>What ${fhir.file} (FHIR ${fhir.version}) says, read on this device:</p>
      <p class="summary" data-testid="fhir-summary">${policyWords(fhir.policy)}.</p>
      ${filled.length > 0 && html`<p data-testid="fhir-period">The file gives ${filled.join('; and ')}.</p>`}
      ${fhir.notCarried.length > 0 && html`<p class="meta" data-testid="fhir-not-carried">Not part of what you sign (they describe the document): ${fhir.notCarried.join(', ')}.</p>`}
      ${keepBox} ${whereItLives}
      <div class="row">
        <button type="button" class="primary" onClick=${signFhir}>Sign and share</button>
        <button type="button" onClick=${() => setFhir(undefined)}>Choose another file</button>
      </div>
    </section>`;
  }
  if (terms) {
    return html`<section aria-labelledby="sum-h">
      <h2 id="sum-h">Check before you sign</h2>
      <p class="summary" data-testid="grant-summary">${except.length > 0 ? exceptionSummary(terms, except) : grantSummary(terms)}</p>
      ${whereItLives}
      <div class="row">
        <button type="button" class="primary" onClick=${sign}>Sign and share</button>
        <button type="button" onClick=${() => setTerms(undefined)}>Change</button>
      </div>
    </section>`;
  }
  return html`<section aria-labelledby="share-h">
    <h2 id="share-h">Share my records</h2>
    <form onSubmit=${review}>
      <label for="grantee">Organisation (its identifier, e.g. HospitalBMSP)</label>
      <input id="grantee" required autocapitalize="off" value=${grantee} onInput=${(e: Event) => setGrantee((e.target as HTMLInputElement).value)} />
      <label for="purpose">Purpose</label>
      <select id="purpose" value=${purpose} onChange=${(e: Event) => setPurpose((e.target as HTMLSelectElement).value)}>
        ${PURPOSES_OF_USE.map((p) => html`<option value=${p}>${PURPOSE_WORDS[p] ?? p}</option>`)}
      </select>
      <fieldset>
        <legend>What: kinds of record</legend>
        ${Object.entries(CATEGORY_WORDS).map(
          ([c, words]) => html`<label class="check"><input type="checkbox" checked=${cats.includes(c)} onChange=${(e: Event) => setCats((e.target as HTMLInputElement).checked ? [...cats, c] : cats.filter((x) => x !== c))} /> ${words}</label>`,
        )}
      </fieldset>
      <label for="records">…or these records (ids, separated by commas)</label>
      <input id="records" value=${records} onInput=${(e: Event) => setRecords((e.target as HTMLInputElement).value)} />
      <fieldset>
        <legend>Except records labelled (they stay closed, even among those above)</legend>
        ${EXCEPT_LABELS.map(
          (c) => html`<label class="check"><input type="checkbox" checked=${except.includes(c)} onChange=${(e: Event) => setExcept((e.target as HTMLInputElement).checked ? [...except, c] : except.filter((x) => x !== c))} /> ${LABEL_WORDS[c]} (${c})</label>`,
        )}
      </fieldset>
      <label for="days">For how many days</label>
      <input id="days" type="number" min="1" max="365" required value=${days} onInput=${(e: Event) => setDays(Number((e.target as HTMLInputElement).value))} />
      ${keepBox}
      <button type="submit">Review</button>
    </form>
    <fieldset>
      <legend>Or sign a FHIR Consent file</legend>
      <p>A FHIR R4 or R5 Consent (JSON) from your doctor or a patient service. This device reads it and shows you what it says before you sign; a date it does not give is set by the days above.</p>
      <label for="fhir-file">FHIR Consent file</label>
      <input id="fhir-file" type="file" accept=".json,application/json,application/fhir+json" onChange=${openFhir} />
    </fieldset>
  </section>`;
}

function ConsentsView({ device: key, hospital, act, load }: Ctx) {
  const { consents, reload } = usePatientData(key, load);
  const [confirm, setConfirm] = useState<string | undefined>();
  // A consent v2 as a FHIR R5 Consent file, for the patient's own records or another system.
  const [fhirFiles, setFhirFiles] = useState<Record<string, string>>({});
  const asFhir = async (c: ConsentView) => {
    if (!key) return;
    const r = await act('Reading it as FHIR…', () => api.consentAsFhir(key, c.consentId), () => 'Your consent as a FHIR R5 Consent: download it below.');
    if (r) setFhirFiles({ ...fhirFiles, [c.consentId]: URL.createObjectURL(new Blob([JSON.stringify(r, null, 2)], { type: 'application/fhir+json' })) });
  };
  const revoke = async (c: ConsentView) => {
    if (!key || !hospital) return;
    const r = await act('Signing the revocation on this device…', () => api.revoke(hospital, key, c.consentId, c.keeper), (res) => {
      const carried = res.carried ?? [];
      const sent = carried.filter((x) => x.error === undefined).map((x) => x.chainId);
      const failed = [...carried.filter((x) => x.error !== undefined).map((x) => `${x.chainId} (${x.error?.code ?? ''})`), ...(res.carryError ? [`the chains it reached (${res.carryError.code})`] : [])];
      return `Revoked: ${c.grantee ?? policyGrantees(c)} may no longer read under this consent.${sent.length > 0 ? ` The revocation is on its way to ${sent.join(', ')}.` : ''}${failed.length > 0 ? ` It could not be sent to ${failed.join(', ')}: ask ${hospital.mspId}.` : ''}`;
    });
    setConfirm(undefined);
    if (r) await reload();
  };
  return html`<section aria-labelledby="cons-h">
    <h2 id="cons-h">My consents</h2>
    <button type="button" onClick=${reload}>Refresh</button>
    ${consents?.length === 0 && html`<p>You have not shared anything yet.</p>`}
    <ul class="cards">
      ${(consents ?? []).map(
        (c) => html`<li class="card" data-consent=${c.consentId}>
          <p><span class=${`badge ${c.effectiveStatus}`}>${statusWords(c.effectiveStatus)}</span> <strong>${c.grantee ?? policyGrantees(c)}</strong></p>
          <p>${c.terms ? (c.effectiveStatus === 'active' ? grantLine(c.terms) : grantLine(c.terms).replace(' may read ', ' could read ')) : policyLine(c)}.</p>
          ${c.keeper && html`<p class="kept">${keeperWords(c.keeper)}</p>`}
          ${c.policy &&
          (fhirFiles[c.consentId]
            ? html`<p><a href=${fhirFiles[c.consentId]} download=${`consent-${c.consentId.slice(3, 15)}.fhir.json`}>Download as FHIR R5 Consent</a></p>`
            : html`<button type="button" aria-label=${`FHIR file of the consent for ${policyGrantees(c)}`} onClick=${() => asFhir(c)}>As a FHIR file</button>`)}
          ${(c.chains ?? []).length > 0 &&
          html`<ul class="chains" aria-label="On other chains">
            ${(c.chains ?? []).map(
              (x) => html`<li>On <strong>${x.chainId}</strong>: ${chainWords(x)}</li>`,
            )}
          </ul>`}
          <p class="meta">Home chain ${c.chainId} · granted ${dateWords(c.grantedAt)}${c.revocation ? ` · revoked ${dateWords(c.revocation.revokedAt)}` : ''} · <span class="mono">${c.consentId.slice(0, 14)}…</span></p>
          ${c.effectiveStatus === 'active' &&
          (confirm === c.consentId
            ? html`<div class="row" role="group" aria-label="Confirm revocation">
                <span>Stop ${c.grantee ?? policyGrantees(c)} reading under this consent?</span>
                <button type="button" class="danger" onClick=${() => revoke(c)}>Yes, revoke</button>
                <button type="button" onClick=${() => setConfirm(undefined)}>Keep it</button>
              </div>`
            : html`<button type="button" aria-label=${`Revoke consent for ${c.grantee ?? policyGrantees(c)}`} onClick=${() => setConfirm(c.consentId)}>Revoke</button>`)}
        </li>`,
      )}
    </ul>
  </section>`;
}

function LogView({ device: key, hospital, act }: Ctx) {
  const [entries, setEntries] = useState<AccessLogEntry[] | undefined>();
  const read = async () => {
    if (!key || !hospital) return;
    const r = await act('Signing your log read…', () => api.accessLog(hospital, key), (res) => `${res.items.length} entr${res.items.length === 1 ? 'y' : 'ies'} in your access log.`);
    if (r) setEntries([...r.items].sort((a, b) => b.time - a.time));
  };
  useEffect(() => void read(), [key?.patientId, hospital?.chainId]);
  return html`<section aria-labelledby="log-h">
    <h2 id="log-h">Who looked at my records</h2>
    <button type="button" onClick=${read}>Refresh</button>
    ${entries?.length === 0 && html`<p>Nobody has asked for your records yet.</p>`}
    <ol class="timeline">
      ${(entries ?? []).map((e) => {
        const w = logWords(e);
        return html`<li class=${`event ${w.tone}`}>
          <time datetime=${new Date(e.time).toISOString()}>${new Date(e.time).toLocaleString('en-GB', { timeZone: 'UTC' })} UTC</time>
          <p class="title">${w.tone === 'refused' ? 'Refused: ' : w.tone === 'emergency' ? 'Emergency: ' : ''}${w.title}</p>
          <p>${w.detail}</p>
        </li>`;
      })}
    </ol>
  </section>`;
}

function GuardianView({ device: key, hospital, act }: Ctx) {
  const [pub, setPub] = useState('');
  const [until, setUntil] = useState(new Date(Date.now() + 365 * DAY).toISOString().slice(0, 10));
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!key || !hospital) return;
    const notAfter = Date.parse(`${until}T23:59:59Z`);
    await act('Signing the delegation on this device…', () => api.delegate(hospital, key, { publicKey: pub.trim(), notAfter }), () => `Your guardian may act for you until ${dateWords(notAfter)}.`);
  };
  return html`<section aria-labelledby="g-h">
    <h2 id="g-h">Delegate to a guardian</h2>
    <p>A guardian (a relative, a carer) can grant and revoke for you with their own key, until the date you choose. Ask them for their public key.</p>
    <form onSubmit=${submit}>
      <label for="gkey">Guardian's public key (base64)</label>
      <textarea id="gkey" required rows="3" value=${pub} onInput=${(e: Event) => setPub((e.target as HTMLTextAreaElement).value)}></textarea>
      <label for="until">Until</label>
      <input id="until" type="date" required value=${until} onInput=${(e: Event) => setUntil((e.target as HTMLInputElement).value)} />
      <button type="submit">Sign the delegation</button>
    </form>
  </section>`;
}

function LinkView({ device: key, hospital, act }: Ctx) {
  const [file, setFile] = useState<File | undefined>();
  const [pass, setPass] = useState('');
  const [chain, setChain] = useState('');
  const [audience, setAudience] = useState('');
  const [days, setDays] = useState('7');
  const [made, setMade] = useState<{ url: string; text: string } | undefined>();
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!key || !hospital || !file) return;
    const signed = await act(
      'Opening the other backup and signing with both keys on this device…',
      async () => {
        const other = await openBackup(await file.text(), pass);
        return makePseudonymLink({
          ids: [
            { chainId: hospital.chainId, key },
            { chainId: chain.trim(), key: other },
          ],
          audience: audience.trim() || undefined,
          days: Number(days),
        });
      },
      (r) => `Link made: your ids on ${r.link.pseudonyms.map((p) => p.chainId).join(' and ')}, valid ${days} days${r.link.audience ? ` for ${r.link.audience}` : ''}. Nothing was sent.`,
    );
    setPass('');
    if (!signed) return;
    const text = JSON.stringify(signed, null, 1);
    setMade({ url: URL.createObjectURL(new Blob([text], { type: 'application/json' })), text });
  };
  return html`<section aria-labelledby="link-h">
    <h2 id="link-h">Prove that my ids on two chains are mine</h2>
    <p>Each chain knows you by a different id, so nobody can match them by comparing ledgers. When you want a hospital to know that two of them are you, make a link here: your key in this browser and the key of your other id (from its backup file) both sign it. Nothing is sent or stored on a ledger; you give the file to whom you choose, and it stops working after the days you set.</p>
    <form onSubmit=${submit}>
      <label for="link-file">Backup file of your other id</label>
      <input id="link-file" type="file" accept="application/json,.json" required onChange=${(e: Event) => setFile((e.target as HTMLInputElement).files?.[0])} />
      <label for="link-pass">Its passphrase</label>
      <input id="link-pass" type="password" autocomplete="off" required value=${pass} onInput=${(e: Event) => setPass((e.target as HTMLInputElement).value)} />
      <label for="link-chain">Chain of that id</label>
      <input id="link-chain" required placeholder="chain-b" value=${chain} onInput=${(e: Event) => setChain((e.target as HTMLInputElement).value)} />
      <label for="link-aud">Only for this organisation (MSP id; empty: anyone you show it to)</label>
      <input id="link-aud" value=${audience} onInput=${(e: Event) => setAudience((e.target as HTMLInputElement).value)} />
      <label for="link-days">Valid for days (1 to 30)</label>
      <input id="link-days" type="number" min="1" max="30" required value=${days} onInput=${(e: Event) => setDays((e.target as HTMLInputElement).value)} />
      <button type="submit">Sign the link</button>
    </form>
    ${made &&
    html`<p class="callout"><a href=${made.url} download="medbridge-pseudonym-link.json">Download the link</a></p>
      <pre data-testid="link-json">${made.text}</pre>`}
  </section>`;
}

function BackupView({ device: key, hospital, backupUrl, act, setKey, setView, setBackupUrl }: Ctx) {
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const rotate = async (ev: Event) => {
    ev.preventDefault();
    if (!key || !hospital) return;
    if (pass !== again) return void act('', () => Promise.reject(new Error('the two passphrases differ')), () => '');
    const done = await act(
      'Making a new key, signing the change with the current one…',
      async () => {
        const next = await nextKey(key, pass);
        await api.rotate(hospital, key, next.key);
        await useKey(next.key);
        return next;
      },
      () => 'Your key was replaced: same patient id and consents; the old key and its backup no longer work. Save the new backup.',
    );
    if (!done) return;
    setBackupUrl(backupLink(done.backup));
    setKey(done.key);
    setPass('');
    setAgain('');
  };
  return html`<section aria-labelledby="b-h">
    <h2 id="b-h">Backup and lost keys</h2>
    ${backupUrl
      ? html`<p class="callout"><a href=${backupUrl} download="medbridge-key-backup.json">Download my key backup</a> (encrypted with your passphrase).</p>`
      : html`<p>Your backup file was offered when this key was made (or it is the file you restored from). The key cannot be read out of this browser; to get a new backup, replace the key below.</p>`}
    <ul class="plain">
      <li><strong>Lost this device?</strong> Restore the backup on a new device, then replace the key here: the lost device's key stops working.</li>
      <li><strong>Lost the device and the backup (or the passphrase)?</strong> Nobody can sign for you any more, not even the hospital. Your consents stay until they end; a guardian you delegated to can still revoke them. To act again, enrol a new key, which is a new patient id.</li>
    </ul>
    <h3 id="rot-h">Replace my key</h3>
    <p>A new key is made here and the current one signs the change: your patient id, consents and guardians stay; the current key and its backup stop working. You get a new backup file.</p>
    <form onSubmit=${rotate} aria-labelledby="rot-h">
      <label for="rot-pass">Passphrase for the new backup (at least ${MIN_PASSPHRASE} characters)</label>
      <input id="rot-pass" type="password" autocomplete="new-password" minlength=${MIN_PASSPHRASE} required value=${pass} onInput=${(e: Event) => setPass((e.target as HTMLInputElement).value)} />
      <label for="rot-pass2">New passphrase again</label>
      <input id="rot-pass2" type="password" autocomplete="new-password" minlength=${MIN_PASSPHRASE} required value=${again} onInput=${(e: Event) => setAgain((e.target as HTMLInputElement).value)} />
      <button type="submit">Replace my key</button>
    </form>
    <h3>This browser</h3>
    <button type="button" class="danger" onClick=${async () => {
      if (!key) return;
      await act('Removing the key from this browser…', () => forgetKey(), () => 'The key was removed from this browser. Restore it from the backup file.');
      setKey(undefined);
      setView('key');
    }}>Remove the key from this browser</button>
  </section>`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
