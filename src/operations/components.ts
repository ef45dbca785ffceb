/**
 * Component operations (spec §2.14): get_components, get_component_file, set_component_file, drop_component,
 * deploy_component, package_component, add_component. Files live under componentsRoot; a change reaches the
 * workers through a rolling restart (the supervisor re-reads and ensures the applications first), so no request
 * fails while a new version is switched in.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { weftError } from '../errors/index.js';
import {
  checkProject, deployComponent as deploy, dropComponent as drop, listComponents, packageComponent as pack,
  projectPath, readApplication, readComponentFile, writeComponentFile,
} from '../components/index.js';
import type { Handler, ServerServices } from './types.js';
import { requireString } from './validate.js';

function root(services: ServerServices): string {
  return services.config.componentsRoot;
}

function encodingOf(v: unknown): BufferEncoding {
  const e = v === undefined || v === null || v === '' ? 'utf8' : String(v);
  if (!Buffer.isEncoding(e)) throw weftError('VALIDATION', `Invalid encoding '${e}'`);
  return e;
}

/**
 * Ask for a rolling restart now (the supervisor ensures the applications' tables first). Not deferred: this
 * worker may itself be an old one draining from an earlier restart and gone before a timer fires; the answer
 * still goes out because the supervisor starts the new workers before it retires this one.
 */
function rollingRestart(services: ServerServices): void {
  void services.cluster.restartWorkers().catch(() => {});
}

function status(services: ServerServices) {
  return (project: string): Record<string, unknown> => {
    try {
      readApplication(path.join(root(services), project));
      return { status: 'loaded' };
    } catch (e) {
      return { status: 'error', message: (e as Error).message };
    }
  };
}

export const getComponents: Handler = (_req, _ctx, services) => listComponents(root(services), status(services));

export const getComponentFile: Handler = (req, _ctx, services) => {
  const project = checkProject(req.project);
  const file = requireString(req, 'file');
  return readComponentFile(root(services), project, file, encodingOf(req.encoding));
};

export const setComponentFile: Handler = (req, _ctx, services) => {
  const project = checkProject(req.project);
  const file = requireString(req, 'file');
  const payload = req.payload;
  if (payload !== undefined && payload !== null && typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
    throw weftError('FIELD_TYPE', 'payload', 'a string');
  }
  writeComponentFile(root(services), project, file, payload ?? undefined, encodingOf(req.encoding));
  if (req.restart !== false) rollingRestart(services);
  return { message: `Successfully set component: ${file}` };
};

export const dropComponent: Handler = (req, _ctx, services) => {
  const project = checkProject(req.project);
  const file = req.file === undefined || req.file === null || req.file === '' ? undefined : requireString(req, 'file');
  drop(root(services), project, file);
  const restart = req.restart === true || req.restart === 'rolling';
  if (restart) rollingRestart(services);
  return { message: `Successfully dropped: ${project}${file ? '/' + file : ''}${restart ? ', restarting HarperDB' : ''}` };
};

export const deployComponent: Handler = async (req, _ctx, services) => {
  if (req.package !== undefined && req.payload === undefined) throw weftError('NOT_IMPLEMENTED', 'deploy_component with package');
  const project = checkProject(req.project);
  const raw = req.payload;
  let bytes: Buffer;
  if (typeof raw === 'string' && raw) bytes = Buffer.from(raw, 'base64');
  else if (raw instanceof Uint8Array) bytes = Buffer.from(raw);
  else throw weftError('FIELD_REQUIRED', 'payload');
  if (bytes.length === 0) throw weftError('COMPONENT_BAD_PAYLOAD', 'empty payload');
  await deploy(root(services), project, bytes);
  const restart = req.restart === true || req.restart === 'rolling';
  if (!restart) return { message: `Successfully deployed: ${project}` };
  rollingRestart(services);
  const out: Record<string, unknown> = { message: `Successfully deployed: ${project}, restarting HarperDB` };
  if (req.restart === 'rolling') out.restartJobId = randomUUID();
  return out;
};

export const packageComponent: Handler = async (req, _ctx, services) => {
  const project = checkProject(req.project);
  return { project, payload: await pack(root(services), project) };
};

export const addComponent: Handler = (req, _ctx, services) => {
  const project = checkProject(req.project);
  if (req.template !== undefined) throw weftError('NOT_IMPLEMENTED', 'add_component with template');
  const dir = projectPath(root(services), project);
  if (fs.existsSync(dir)) throw weftError('COMPONENT_EXISTS', project);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.yaml'), "rest: true\ngraphqlSchema:\n  files: '*.graphql'\njsResource:\n  files: 'resources.js'\n");
  fs.writeFileSync(path.join(dir, 'schema.graphql'), '');
  return { message: `Successfully added project: ${project}` };
};
