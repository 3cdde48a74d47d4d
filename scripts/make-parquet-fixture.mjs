import { parquetWriteBuffer } from 'hyparquet-writer';
import * as fs from 'node:fs';
const rows = fs.readFileSync('test/fixtures/corpus/s1k-mini.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const cols = ['solution','question','cot_type','source_type','metadata','gemini_thinking_trajectory','gemini_attempt','deepseek_thinking_trajectory','deepseek_attempt','gemini_grade','gemini_grade_reason','deepseek_grade','deepseek_grade_reason'];
const buf = parquetWriteBuffer({ columnData: cols.map((name) => ({ name, data: rows.map((r) => r[name]), type: 'STRING' })) });
fs.writeFileSync('test/fixtures/corpus/s1k-mini.parquet', Buffer.from(buf));
fs.writeFileSync('test/fixtures/corpus/s1k-mini.json', JSON.stringify(rows));
