/**
 * Protocol of the Sample webview ("DCD: Show Corpus Sample"): the host sends
 * one sample's fields; the webview renders them as text and can ask for the
 * previous/next sample.
 */
import type { Api } from './endpoint';
import type { RegionName, Span } from '../trace/template';

export interface SampleView {
  file: string;
  index: number;
  total: number;
  id: string;
  verdict: string;
  draft_source: string;
  gold_answer: string | null;
  draft_answer: string | null;
  text: string;
  regions: Partial<Record<RegionName, Span>>;
}

/** What the host serves to the Sample webview. */
export interface SampleHostApi extends Api {
  requests: {
    getSample: { req: { index: number }; res: SampleView };
  };
  events: {
    ready: Record<string, never>;
  };
}

/** What the Sample webview serves to the host. */
export interface SampleWebviewApi extends Api {
  requests: Record<string, never>;
  events: {
    show: SampleView;
  };
}
