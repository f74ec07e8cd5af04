import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { MayBeAbsent } from '../validation/may-be-absent.decorator';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Deep pages cost a skip; nobody pages this far by hand. */
export const MAX_PAGE = 10_000;

/** `?page=&pageSize=`: 1-based pages of at most 100 items. */
export class PageQueryDto {
  @MayBeAbsent()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page: number = 1;

  @MayBeAbsent()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  pageSize: number = DEFAULT_PAGE_SIZE;
}

/** What a repository needs to read one page. */
export interface PageRequest {
  page: number;
  pageSize: number;
}

/** The one translation of a 1-based page into a skip and a limit. */
export function pageWindow({ page, pageSize }: PageRequest): { skip: number; limit: number } {
  return { skip: (page - 1) * pageSize, limit: pageSize };
}

/** One page as a repository reads it: the items and how many match in all. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** The shape of every list the API returns. */
export interface PagedList<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export function pagedList<T>(items: T[], total: number, query: PageRequest): PagedList<T> {
  return { items, total, page: query.page, pageSize: query.pageSize };
}

export interface PageLinks {
  page: number;
  pages: number;
  previous?: string;
  next?: string;
}

/** Previous/next links for a page of a list, keeping the other query parameters. */
export function pageLinks(path: string, query: Record<string, unknown>, list: PagedList<unknown>): PageLinks {
  const pages = Math.max(1, Math.ceil(list.total / list.pageSize));
  const link = (page: number) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (typeof value === 'string' && value !== '' && key !== 'page') params.set(key, value);
    }
    params.set('page', String(page));
    return `${path}?${params.toString()}`;
  };
  return {
    page: list.page,
    pages,
    previous: list.page > 1 ? link(list.page - 1) : undefined,
    next: list.page < pages ? link(list.page + 1) : undefined,
  };
}
