#!/usr/bin/env python3
"""Deterministic generator of a care-records database (benchmark dataset 2).

Writes the same rows to PostgreSQL (through psql, using PGHOST/PGPORT/PGUSER from the
environment) and to a SQLite file, so that a logical dump, a PostgreSQL base backup and a
SQLite copy of one night all hold the same data.

  gen_care.py init  --visits N --seed S --sqlite FILE   night 1: schema and history
  gen_care.py night --night K  --seed S --sqlite FILE   night K >= 2: one day's changes

A night appends about 0.5 % new rows (the day's visits with their care notes and billing
rows) and updates about 0.2 % of rows, most of them recent: notes get an addendum, billing
rows move from draft to confirmed, visit durations are corrected.
Every value comes from random.Random seeded with (seed, night), so runs are repeatable.
"""
import argparse
import datetime as dt
import random
import sqlite3
import subprocess
import sys

SCHEMA = """
CREATE TABLE residents (
  id integer PRIMARY KEY,
  family_name text NOT NULL,
  given_name text NOT NULL,
  family_kana text NOT NULL,
  given_kana text NOT NULL,
  sex text NOT NULL,
  birth_date date NOT NULL,
  care_level text NOT NULL,
  insurer_no text NOT NULL,
  insured_no text NOT NULL,
  room text NOT NULL,
  admitted_on date NOT NULL
);
CREATE TABLE visits (
  id bigint PRIMARY KEY,
  resident_id integer NOT NULL REFERENCES residents(id),
  staff_id integer NOT NULL,
  service_code text NOT NULL,
  started_at timestamp NOT NULL,
  minutes integer NOT NULL,
  status text NOT NULL
);
CREATE TABLE care_notes (
  id bigint PRIMARY KEY,
  visit_id bigint NOT NULL REFERENCES visits(id),
  resident_id integer NOT NULL REFERENCES residents(id),
  written_at timestamp NOT NULL,
  category text NOT NULL,
  body text NOT NULL,
  temperature numeric(3,1),
  bp_systolic integer,
  bp_diastolic integer,
  pulse integer,
  revision integer NOT NULL
);
CREATE TABLE billing (
  id bigint PRIMARY KEY,
  resident_id integer NOT NULL REFERENCES residents(id),
  visit_id bigint NOT NULL REFERENCES visits(id),
  service_code text NOT NULL,
  units integer NOT NULL,
  amount_yen integer NOT NULL,
  copay_yen integer NOT NULL,
  billed_month text NOT NULL,
  status text NOT NULL
);
CREATE INDEX visits_resident ON visits (resident_id, started_at);
CREATE INDEX care_notes_resident ON care_notes (resident_id, written_at);
CREATE INDEX billing_month ON billing (billed_month, resident_id);
"""

FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
          ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
          ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
          ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
          ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ")]
GIVEN_F = [("ハル", "ハル"), ("キヨ", "キヨ"), ("文子", "フミコ"), ("和子", "カズコ"),
           ("節子", "セツコ"), ("幸子", "サチコ"), ("トミ", "トミ"), ("美代子", "ミヨコ"),
           ("静子", "シズコ"), ("千代", "チヨ"), ("久子", "ヒサコ"), ("花子", "ハナコ")]
GIVEN_M = [("茂", "シゲル"), ("清", "キヨシ"), ("勇", "イサム"), ("正夫", "マサオ"),
           ("博", "ヒロシ"), ("実", "ミノル"), ("進", "ススム"), ("武", "タケシ"),
           ("三郎", "サブロウ"), ("一郎", "イチロウ")]
CARE_LEVELS = ["要支援1", "要支援2", "要介護1", "要介護2", "要介護3", "要介護4", "要介護5"]
# (code, name, units, minutes): 介護報酬 service codes of home-visit and day care.
SERVICES = [("111111", "身体介護1", 250, 30), ("111211", "身体介護2", 396, 60),
            ("112111", "生活援助2", 179, 45), ("115111", "身体生活1", 315, 50),
            ("151111", "通所介護", 658, 420), ("131111", "訪問入浴", 1260, 60),
            ("136111", "訪問看護", 470, 30), ("161111", "短期入所", 704, 1440)]
TIMES = ["早朝", "朝食時", "午前", "昼食時", "午後", "おやつ時", "夕食時", "就寝前", "夜間"]
ACTIONS = ["食事介助", "入浴介助", "排泄介助", "更衣介助", "移乗介助", "口腔ケア", "服薬確認",
           "バイタル測定", "体位変換", "歩行介助", "整容", "シーツ交換", "レクリエーション参加",
           "機能訓練", "水分補給", "清拭", "爪切り", "居室清掃"]
OBSERVATIONS = [
    "表情穏やかに過ごされる。", "笑顔で会話される。", "やや疲れた様子あり。",
    "右下肢に軽度の浮腫あり、看護師へ報告。", "夜間不眠の訴えあり、傾聴する。",
    "皮膚状態異常なし。", "仙骨部に発赤あり、除圧を継続。", "ふらつきあり、歩行時の見守りを強化。",
    "ご家族より電話あり、近況を報告した。", "排便あり、普通便。", "尿量多め、水分摂取を促す。",
    "食欲良好。", "むせ込みあり、とろみを調整。", "入れ歯の不具合の訴えあり。",
    "他利用者と歌を楽しまれる。", "痛みの訴えなし。", "腰痛の訴えあり、湿布貼付。",
    "気分不良の訴えあり、臥床にて様子観察。", "散歩に出かけ、季節の花を楽しまれる。",
    "服薬は自己にて可能、声かけのみ。", "失禁あり、パッド交換と陰部洗浄を実施。",
]
ADDENDA = ["看護師確認済み。", "主治医へ報告済み。", "ケアマネジャーへ連絡。",
           "ご家族へ説明し了承を得た。", "記載漏れを追記。", "翌日も経過観察とする。",
           "サービス担当者会議で共有予定。"]
CATEGORIES = ["介護記録", "バイタル", "申し送り", "看護記録", "家族連絡"]

EPOCH = dt.datetime(2021, 6, 1)   # first visit of the history
NIGHT1 = dt.datetime(2024, 6, 1)  # "today" on night 1; night K is K-1 days later
DRAFT_DAYS = 35                   # billing rows younger than this are still drafts


def ts(t):
    return t.strftime("%Y-%m-%d %H:%M:00")


class Sinks:
    """Sends rows to PostgreSQL (COPY text through psql) and to SQLite."""

    def __init__(self, sqlite_path):
        self.db = sqlite3.connect(sqlite_path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.execute("BEGIN")
        self.psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "care"],
                                     stdin=subprocess.PIPE, text=True, encoding="utf-8")

    def sql(self, pg_sql, sqlite_sql=None):
        self.psql.stdin.write(pg_sql + "\n")
        if sqlite_sql is not None:
            self.db.executescript(sqlite_sql)  # commits the open transaction first
            if not self.db.in_transaction:
                self.db.execute("BEGIN")

    def insert(self, table, rows):
        if not rows:
            return
        self.copy(table, rows)
        marks = ",".join("?" * len(rows[0]))
        self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def copy(self, table, rows):
        w = self.psql.stdin.write
        w(f"COPY {table} FROM STDIN;\n")
        for r in rows:
            w("\t".join("\\N" if v is None else str(v) for v in r))
            w("\n")
        w("\\.\n")

    def update(self, table, columns, rows):
        """rows: (id, new values...) in the order of `columns`."""
        if not rows:
            return
        tmp = f"upd_{table}"
        self.psql.stdin.write(f"CREATE TEMP TABLE {tmp} AS SELECT id, {', '.join(columns)} "
                              f"FROM {table} WITH NO DATA;\n")
        self.copy(tmp, rows)
        sets = ", ".join(f"{c} = u.{c}" for c in columns)
        self.psql.stdin.write(f"UPDATE {table} t SET {sets} FROM {tmp} u WHERE t.id = u.id;\n"
                              f"DROP TABLE {tmp};\n")
        sets = ", ".join(f"{c} = ?" for c in columns)
        self.db.executemany(f"UPDATE {table} SET {sets} WHERE id = ?",
                            [tuple(r[1:]) + (r[0],) for r in rows])

    def close(self):
        self.db.execute("COMMIT")
        self.db.close()
        self.psql.stdin.close()
        if self.psql.wait() != 0:
            sys.exit("gen_care: psql failed")


class Generator:
    def __init__(self, rng):
        self.rng = rng

    def resident(self, rid):
        r = self.rng
        sex = "F" if r.random() < 0.7 else "M"
        fam = r.choice(FAMILY)
        giv = r.choice(GIVEN_F if sex == "F" else GIVEN_M)
        birth = dt.date(1925, 1, 1) + dt.timedelta(days=r.randrange(365 * 27))
        admitted = EPOCH.date() - dt.timedelta(days=r.randrange(365 * 5))
        return (rid, fam[0], giv[0], fam[1], giv[1], sex, birth.isoformat(),
                r.choice(CARE_LEVELS), f"13{r.randrange(10000):04d}",
                f"{r.randrange(10**10):010d}", f"{r.randrange(1, 5)}{r.randrange(1, 40):02d}号室",
                admitted.isoformat())

    def note_body(self, when, svc_name):
        r = self.rng
        parts = [f"{r.choice(TIMES)}、{svc_name}にて{r.choice(ACTIONS)}を実施。"]
        if r.random() < 0.6:
            parts.append(f"主食{r.randrange(3, 11)}割、副食{r.randrange(3, 11)}割摂取。"
                         f"水分{r.randrange(10, 40) * 10}ml。")
        for _ in range(r.randrange(1, 4)):
            parts.append(r.choice(OBSERVATIONS))
        if r.random() < 0.3:
            parts.append(f"{r.choice(ACTIONS)}の際、{r.choice(OBSERVATIONS)}")
        parts.append(f"（記録 {when.strftime('%m/%d %H:%M')}）")
        return "".join(parts)

    def visit(self, vid, note_id, bill_id, residents, when, today):
        """Returns the visit, its notes and its billing row."""
        r = self.rng
        rid = r.randrange(1, residents + 1)
        code, name, units, minutes = r.choice(SERVICES)
        minutes += r.randrange(-5, 6) if minutes < 400 else 0
        visit = (vid, rid, r.randrange(1, 61), code, ts(when), minutes,
                 "done" if when < today else "planned")
        notes = []
        for k in range(2 if r.random() < 0.3 else 1):
            written = when + dt.timedelta(minutes=minutes + r.randrange(0, 90))
            category = "バイタル" if k == 1 else r.choice(CATEGORIES)
            vitals = (None, None, None, None)
            if category == "バイタル" or r.random() < 0.5:
                vitals = (f"{r.randrange(355, 378) / 10:.1f}", r.randrange(100, 170),
                          r.randrange(55, 100), r.randrange(55, 110))
            notes.append((note_id + k, vid, rid, ts(written), category,
                          self.note_body(written, name)) + vitals + (0,))
        amount = units * 1090 // 100  # 10.90 yen per unit (特別区)
        copay = amount // 10 if r.random() < 0.8 else amount // 5
        status = "draft" if (today - when).days < DRAFT_DAYS else "claimed"
        bill = (bill_id, rid, vid, code, units, amount, copay, when.strftime("%Y-%m"), status)
        return visit, notes, bill


def recent_ids(rng, max_id, count, mean_fraction=0.02):
    """`count` distinct ids in [1, max_id], exponentially concentrated on the newest."""
    ids = set()
    mean = max(1.0, max_id * mean_fraction)
    while len(ids) < min(count, max_id):
        ids.add(max(1, max_id - int(rng.expovariate(1 / mean))))
    return sorted(ids)


def add_visits(gen, sinks, first_vid, first_note, first_bill, count, residents, start, end, today):
    step = (end - start) / max(1, count)
    batch_v, batch_n, batch_b = [], [], []
    note_id, bill_id = first_note, first_bill
    for i in range(count):
        when = start + step * i
        # Office hours, 07:00-19:59: the hour is folded, the day and order of days kept.
        when = when.replace(hour=7 + when.hour % 13, second=0, microsecond=0)
        v, notes, b = gen.visit(first_vid + i, note_id, bill_id, residents, when, today)
        note_id += len(notes)
        bill_id += 1
        batch_v.append(v)
        batch_n.extend(notes)
        batch_b.append(b)
        if len(batch_v) >= 20000:
            flush(sinks, batch_v, batch_n, batch_b)
            batch_v, batch_n, batch_b = [], [], []
    flush(sinks, batch_v, batch_n, batch_b)


def flush(sinks, v, n, b):
    sinks.insert("visits", v)
    sinks.insert("care_notes", n)
    sinks.insert("billing", b)


def cmd_init(args):
    rng = random.Random(args.seed * 1000 + 1)
    gen = Generator(rng)
    sinks = Sinks(args.sqlite)
    sinks.sql(SCHEMA, SCHEMA)
    residents = max(50, args.visits // 300)
    sinks.insert("residents", [gen.resident(i) for i in range(1, residents + 1)])
    add_visits(gen, sinks, 1, 1, 1, args.visits, residents, EPOCH, NIGHT1, NIGHT1)
    sinks.close()


def cmd_night(args):
    rng = random.Random(args.seed * 1000 + args.night)
    gen = Generator(rng)
    db = sqlite3.connect(args.sqlite)
    (residents,) = db.execute("SELECT max(id) FROM residents").fetchone()
    n_visits, n_notes, n_bills = (db.execute(f"SELECT max(id) FROM {t}").fetchone()[0]
                                  for t in ("visits", "care_notes", "billing"))
    db.close()
    today = NIGHT1 + dt.timedelta(days=args.night - 1)
    total = n_visits + n_notes + n_bills
    sinks = Sinks(args.sqlite)

    # Appends: ~0.5 % of all rows, as the day's visits (each adds ~2.3 rows).
    new_visits = max(1, int(total * 0.005 / 2.3))
    add_visits(gen, sinks, n_visits + 1, n_notes + 1, n_bills + 1, new_visits, residents,
               today - dt.timedelta(days=1), today, today)

    # Updates: ~0.2 % of all rows, concentrated on recent ones.
    n_upd = max(3, int(total * 0.002))
    note_ids = recent_ids(rng, n_notes, n_upd * 6 // 10)
    bill_ids = recent_ids(rng, n_bills, n_upd * 3 // 10)
    visit_ids = recent_ids(rng, n_visits, n_upd - len(note_ids) - len(bill_ids))
    db = sinks.db
    notes = []
    for nid in note_ids:
        body, rev = db.execute("SELECT body, revision FROM care_notes WHERE id = ?",
                               (nid,)).fetchone()
        body += f"【追記{today.strftime('%m/%d')}】{rng.choice(ADDENDA)}"
        notes.append((nid, body, rev + 1))
    sinks.update("care_notes", ["body", "revision"], notes)
    bills = []
    for bid in bill_ids:
        (amount,) = db.execute("SELECT amount_yen FROM billing WHERE id = ?", (bid,)).fetchone()
        bills.append((bid, amount + rng.randrange(-200, 201), "confirmed"))
    sinks.update("billing", ["amount_yen", "status"], bills)
    visits = [(vid, rng.randrange(20, 90), "done") for vid in visit_ids]
    sinks.update("visits", ["minutes", "status"], visits)
    sinks.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init")
    i.add_argument("--visits", type=int, required=True)
    n = sub.add_parser("night")
    n.add_argument("--night", type=int, required=True)
    for s in (i, n):
        s.add_argument("--seed", type=int, default=20240601)
        s.add_argument("--sqlite", required=True)
    args = p.parse_args()
    if args.cmd == "init":
        cmd_init(args)
    else:
        if args.night < 2:
            sys.exit("gen_care: --night must be >= 2 (night 1 is init)")
        cmd_night(args)


if __name__ == "__main__":
    main()
