/**
 * Writes public/sample/patients.csv: synthetic patient records (no real person), reproducible from
 * the seed, with plausible correlations (BMI and blood pressure rise with age; diabetes with BMI).
 * Run: npx tsx scripts/make-sample-data.ts [rows]
 */
import { writeFileSync } from 'node:fs';

const ROWS = Number(process.argv[2] ?? 2000);
let s = 0x5eed1234;
const rnd = (): number => {
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return s / 0x100000000;
};
const gauss = (): number => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

const lines = ['patient_id,age,sex,bmi,systolic_bp,diabetic,admitted'];
for (let i = 1; i <= ROWS; i++) {
  const age = Math.round(clamp(50 + 18 * gauss(), 18, 99));
  const sex = rnd() < 0.52 ? 'F' : 'M';
  const bmi = clamp(24 + (age - 50) * 0.05 + 4.5 * gauss(), 15, 55);
  const sys = Math.round(clamp(110 + (age - 18) * 0.45 + (bmi - 25) * 0.8 + 12 * gauss(), 85, 220));
  const pDiab = 1 / (1 + Math.exp(-(-4.2 + 0.035 * age + 0.09 * (bmi - 25))));
  const diabetic = rnd() < pDiab ? 1 : 0;
  const day = new Date(Date.UTC(2024, 0, 1) + Math.floor(rnd() * 730) * 86_400_000)
    .toISOString()
    .slice(0, 10);
  lines.push(
    `P${String(i).padStart(5, '0')},${age},${sex},${bmi.toFixed(1)},${sys},${diabetic},${day}`,
  );
}
writeFileSync('public/sample/patients.csv', `${lines.join('\n')}\n`);
console.error(`wrote public/sample/patients.csv (${ROWS} rows)`);
