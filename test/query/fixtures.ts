/** Shared test fixtures for the query layer. */
import type { DatasetSchema } from '../../src/query/index';

export const PATIENTS: DatasetSchema = {
  name: 'patients',
  id: '0xABCDEF12',
  rows: 100_000,
  columns: [
    { name: 'age', type: { kind: 'integer', min: 0, max: 120 } },
    { name: 'bmi', type: { kind: 'decimal', scale: 1, min: 10, max: 70 } },
    { name: 'sex', type: { kind: 'category', domain: ['F', 'M'] } },
    { name: 'region', type: { kind: 'category', domain: ['north', 'south', 'east', 'west'] } },
    { name: 'diabetic', type: { kind: 'integer', min: 0, max: 1 } },
    { name: 'admitted', type: { kind: 'date', min: '2000-01-01', max: '2030-12-31' } },
    { name: 'income', type: { kind: 'integer', min: 0, max: 2_000_000_000 } },
    { name: 'Notes', type: { kind: 'category', domain: ['a'] } },
  ],
};

/** Three columns (age, bmi, sex) over 100,000 declared rows: the fixed-point statistics tests. */
export const AGE_BMI_SEX = {
  name: 'patients',
  rows: 100_000,
  columns: [
    { name: 'age', type: { kind: 'integer', min: 0, max: 120 } },
    { name: 'bmi', type: { kind: 'decimal', scale: 1, min: 10, max: 70 } },
    { name: 'sex', type: { kind: 'category', domain: ['F', 'M'] } },
  ],
} as const;
