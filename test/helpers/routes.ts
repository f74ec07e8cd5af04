import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getMetadataStorage } from 'class-validator';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One route the app serves, with the names of the inputs its handler takes. */
export interface AppRoute {
  method: HttpMethod;
  /** Express form: `/api/admin/users/:id`. */
  path: string;
  params: string[];
  query: string[];
  body: string[];
}

const METHODS: Partial<Record<RequestMethod, HttpMethod>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.DELETE]: 'delete',
};

interface RouteArgument {
  index: number;
  data?: unknown;
}

/** The fields a DTO class validates (inherited ones too); none for a plain object or an interface. */
function fieldsOf(type: unknown): string[] {
  if (typeof type !== 'function' || type === Object) return [];
  const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  return [...new Set(metadata.map((entry) => entry.propertyName))];
}

function joinPath(...parts: string[]): string {
  const path = parts
    .flatMap((part) => part.split('/'))
    .filter(Boolean)
    .join('/');
  return `/${path}`;
}

/**
 * Every route of every controller, read from Nest's own metadata (the same
 * the router is built from): method, path, and which body, query and path
 * fields the handler takes, from its DTO classes or its named parameters.
 */
export function appRoutes(app: NestExpressApplication): AppRoute[] {
  const routes: AppRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => object) | null;
      if (!controller) continue;
      const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const paths: unknown = Reflect.getMetadata(PATH_METADATA, handler);
        const method = METHODS[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        if (paths === undefined || !method) continue;
        const args = Object.entries((Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, RouteArgument>);
        const types = (Reflect.getMetadata('design:paramtypes', prototype, name) ?? []) as unknown[];
        const inputs = (kind: RouteParamtypes) =>
          args
            .filter(([key]) => key.split(':')[0] === String(kind))
            .flatMap(([, argument]) => (typeof argument.data === 'string' ? [argument.data] : fieldsOf(types[argument.index])));
        for (const path of ([] as string[]).concat(paths as string | string[])) {
          const full = joinPath(prefix, path);
          routes.push({
            method,
            path: full,
            params: [...full.matchAll(/:(\w+)/g)].map((match) => match[1]),
            query: inputs(RouteParamtypes.QUERY),
            body: inputs(RouteParamtypes.BODY),
          });
        }
      }
    }
  }
  return routes;
}
