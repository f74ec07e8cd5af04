/**
 * The baseline the benchmark compares against: plain Express, and a textbook
 * express-session + connect-mongo setup (rolling, touchAfter 0) on the same
 * database. Not part of the product. Env: PORT, MONGODB_URI.
 */
import MongoStore from 'connect-mongo';
import express from 'express';
import session from 'express-session';
import { MongoClient } from 'mongodb';

const DATA_COMMANDS = new Set(['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count']);

async function main(): Promise<void> {
  const client = await MongoClient.connect(process.env.MONGODB_URI ?? '', { monitorCommands: true });
  let commands = 0;
  client.on('commandStarted', (event) => {
    if (DATA_COMMANDS.has(event.commandName)) commands++;
  });
  const app = express();
  app.get('/plain', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/ops', (_req, res) => void res.json({ commands }));
  app.use(
    session({
      // No TTL index: FerretDB has none, and expiry is not what this baseline measures.
      store: MongoStore.create({ client, collectionName: 'plain_sessions', touchAfter: 0, autoRemove: 'disabled' }),
      secret: 'plain express-session baseline secret',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { maxAge: 15 * 60_000 },
    }),
  );
  app.post('/login', (req, res) => {
    (req.session as unknown as { userId: string }).userId = 'bench-user';
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => {
    const userId = (req.session as unknown as { userId?: string }).userId;
    if (!userId) return void res.status(401).end();
    res.json({ user: { id: userId } });
  });
  app.listen(Number(process.env.PORT), '127.0.0.1');
}

void main();
