package dev.kimilinear.eval.report.samples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.report.Html;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One page of samples: a table a person filters by verdict, subset and text, and pages through.
 * Every page carries the counts of all pages of its benchmark (a few numbers per page), so the
 * page links under a filter go only to pages that hold matching samples. Self-contained: inline
 * CSS and script, no requests; without scripts every sample is shown.
 */
final class SamplePage {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String STYLE = """
      body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:16px 24px;color:#222}
      h1{font-size:20px;margin:0 0 4px}.muted{color:#666;font-size:13px}
      .bar{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #ddd;z-index:1}
      .bar label{margin-right:14px;font-size:13px}#status{font-size:13px;margin:6px 0}
      #pager a,#pager span{display:inline-block;margin:2px 3px;padding:1px 6px;font-size:13px;border:1px solid #ccc;border-radius:3px;text-decoration:none}
      #pager span.cur{background:#333;color:#fff;border-color:#333}
      table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
      th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}th{background:#f4f4f4}
      td.n{text-align:right;white-space:nowrap}tbody.s{border-top:3px solid #999}
      .v-correct{background:#d3efd3}.v-wrong{background:#f8d0d0}.v-no-answer{background:#fbefc8}.v-failed{background:#e0d4f0}
      pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;max-height:420px;overflow:auto;background:#f8f8f8;padding:6px;font-size:12px}
      .lab{font-weight:600;font-size:12px;margin-top:4px}code{background:#f1f1f1;padding:0 3px}
      details summary{cursor:pointer;font-size:12px;color:#333}
      """;

  /** Filters in the verdict menu: a key and the verdicts it lets through. */
  static final Map<String, List<SampleVerdict>> FILTERS = filters();

  private static final String SCRIPT = """
      (function(){
      var data=JSON.parse(document.getElementById('page-data').textContent);
      var order=['correct','wrong','no-answer','failed'];
      var filters=data.filters;
      var vSel=document.getElementById('verdict'),sSel=document.getElementById('subset'),q=document.getElementById('search');
      data.subsets.forEach(function(s){var o=document.createElement('option');o.value=s;o.textContent=s;sSel.appendChild(o);});
      function readHash(){var h={};location.hash.replace(/^#/,'').split('&').forEach(function(kv){if(!kv)return;var i=kv.indexOf('=');
        if(i>0)h[decodeURIComponent(kv.slice(0,i))]=decodeURIComponent(kv.slice(i+1));});return h;}
      function hashOf(){var p=[];if(vSel.value!=='all')p.push('verdict='+encodeURIComponent(vSel.value));
        if(sSel.value)p.push('subset='+encodeURIComponent(sSel.value));return p.length?'#'+p.join('&'):'';}
      function countOn(page,verdict,subset){var c=data.counts[page-1],n=0;Object.keys(c).forEach(function(s){
        if(subset&&s!==subset)return;filters[verdict].forEach(function(v){n+=c[s][order.indexOf(v)];});});return n;}
      function link(page,text){var a=document.createElement('a');a.href=data.files[page-1]+hashOf();a.textContent=text;return a;}
      function apply(){
        var verdict=vSel.value,subset=sSel.value,text=q.value.toLowerCase(),shown=0;
        var rows=document.querySelectorAll('tbody.s');
        for(var i=0;i<rows.length;i++){var r=rows[i];
          var ok=filters[verdict].indexOf(r.getAttribute('data-v'))>=0&&(!subset||r.getAttribute('data-s')===subset)
            &&(!text||r.textContent.toLowerCase().indexOf(text)>=0);
          r.style.display=ok?'':'none';if(ok)shown++;}
        var total=0,withMatches=[];for(var p=1;p<=data.pages;p++){var n=countOn(p,verdict,subset);total+=n;if(n>0)withMatches.push(p);}
        document.getElementById('status').textContent=shown+' of '+rows.length+' samples on this page shown; '
          +total.toLocaleString('en')+' samples match in '+withMatches.length+' of '+data.pages+' pages';
        var pager=document.getElementById('pager');pager.textContent='';
        var prev=withMatches.filter(function(p){return p<data.page;}).pop(),next=withMatches.filter(function(p){return p>data.page;})[0];
        if(prev)pager.appendChild(link(prev,'\\u2190 previous'));
        withMatches.forEach(function(p){if(withMatches.length>15&&Math.abs(p-data.page)>4&&p!==withMatches[0]&&p!==withMatches[withMatches.length-1])return;
          if(p===data.page){var s=document.createElement('span');s.className='cur';s.textContent=p;pager.appendChild(s);}
          else pager.appendChild(link(p,String(p)));});
        if(next)pager.appendChild(link(next,'next \\u2192'));
        try{history.replaceState(null,'',location.pathname+location.search+hashOf());}catch(e){}
      }
      var h=readHash();if(h.verdict&&filters[h.verdict])vSel.value=h.verdict;if(h.subset!==undefined)sSel.value=h.subset;
      vSel.addEventListener('change',apply);sSel.addEventListener('change',apply);q.addEventListener('input',apply);
      window.addEventListener('hashchange',function(){var h=readHash();vSel.value=h.verdict&&filters[h.verdict]?h.verdict:'all';sSel.value=h.subset||'';apply();});
      apply();document.body.setAttribute('data-ready','1');
      })();
      """;

  private SamplePage() {}

  static String render(SamplePages.PagePlan plan, int page, List<SampleView> views) {
    int first = (page - 1) * SamplePages.PER_PAGE + 1;
    int last = first + views.size() - 1;
    String title = plan.benchmark() + " samples " + first + "-" + last + " of " + plan.samples().size();
    StringBuilder h = new StringBuilder(64 * 1024);
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(Html.escape(title))
        .append("</title><style>").append(STYLE).append("</style></head><body>\n");
    h.append("<h1>").append(Html.escape(title)).append("</h1>\n<p class=\"muted\"><a href=\"../report.html\">")
        .append("back to the report</a>. Page ").append(page).append(" of ").append(plan.pages())
        .append(String.format(Locale.ROOT, ", %d samples a page, ordered by subset, id and sample.", SamplePages.PER_PAGE))
        .append("</p>\n");
    h.append("<div class=\"bar\"><label>show <select id=\"verdict\">");
    for (String key : FILTERS.keySet()) {
      h.append("<option value=\"").append(key).append("\">").append(filterLabel(key)).append("</option>");
    }
    h.append("</select></label><label>subset <select id=\"subset\"><option value=\"\">all subsets</option></select></label>")
        .append("<label>text on this page <input id=\"search\" type=\"search\" size=\"24\"></label>")
        .append("<div id=\"status\"></div><div id=\"pager\">");
    // without scripts: plain links to the neighbouring pages
    if (page > 1) {
      h.append("<a href=\"").append(SampleIndex.fileName(plan.benchmark(), page - 1)).append("\">previous</a>");
    }
    if (page < plan.pages()) {
      h.append("<a href=\"").append(SampleIndex.fileName(plan.benchmark(), page + 1)).append("\">next</a>");
    }
    h.append("</div></div>\n");
    h.append("<table id=\"samples\"><thead><tr><th>sample</th><th>verdict and reason</th><th>extracted answer</th>")
        .append("<th>reference</th><th>finish</th><th>prompt tokens</th><th>output tokens</th></tr></thead>\n");
    for (SampleView v : views) {
      row(h, v);
    }
    h.append("</table>\n<script type=\"application/json\" id=\"page-data\">").append(Html.scriptJson(data(plan, page)))
        .append("</script>\n<script>").append(SCRIPT).append("</script>\n</body></html>\n");
    return h.toString();
  }

  private static void row(StringBuilder h, SampleView v) {
    ScoreRecord s = v.score();
    GenerationRecord g = v.generation();
    SampleVerdict verdict = v.verdict();
    h.append("<tbody class=\"s\" data-v=\"").append(verdict.key()).append("\" data-s=\"")
        .append(Html.escape(s.subset() == null ? "" : s.subset())).append("\">\n<tr><td><code>")
        .append(Html.escape(s.id())).append("</code><div class=\"muted\">").append(Html.escape(s.subset()))
        .append(" &middot; sample ").append(s.sample()).append("</div></td>");
    h.append("<td class=\"v-").append(verdict.key()).append("\"><b>").append(verdict.label()).append("</b>");
    if (!Double.isNaN(s.score()) && s.score() > 0 && s.score() < 1) {
      h.append(String.format(Locale.ROOT, " (score %.2f)", s.score()));
    }
    if (s.reason() != null) {
      h.append("<div>").append(Html.escape(s.reason())).append("</div>");
    }
    h.append("</td><td>").append(s.extracted() == null ? "<span class=\"muted\">none</span>"
        : "<code>" + Html.escape(s.extracted()) + "</code>");
    h.append("</td><td>").append(Html.escape(v.reference().answer())).append("</td>");
    if (g == null) {
      h.append("<td class=\"muted\">no generation</td><td class=\"n\"></td><td class=\"n\"></td></tr>\n");
    } else {
      h.append("<td>").append(Html.escape(g.finishReason())).append("</td><td class=\"n\">").append(g.promptTokens())
          .append("</td><td class=\"n\">").append(g.outputTokens()).append("</td></tr>\n");
    }
    h.append("<tr><td colspan=\"7\"><details><summary>prompt (")
        .append(String.format(Locale.ROOT, "%,d characters", v.prompt().chars()))
        .append(v.prompt().shortened() ? ", its beginning and end shown" : "").append(")</summary><pre>")
        .append(Html.escape(v.prompt().shown())).append("</pre></details>");
    if (v.reference().detail() != null) {
      h.append("<details><summary>reference: ").append(Html.escape(v.reference().answer())).append("</summary><pre>")
          .append(Html.escape(v.reference().detail())).append("</pre></details>");
    }
    if (g != null) {
      h.append("<div class=\"lab\">generation</div><pre class=\"gen\">").append(Html.escape(g.text())).append("</pre>");
      if (g.error() != null) {
        h.append("<div class=\"lab\">error</div><pre>").append(Html.escape(g.error())).append("</pre>");
      }
    }
    if (s.stdout() != null && !s.stdout().isEmpty()) {
      h.append("<details open><summary>program stdout (last bytes)</summary><pre>").append(Html.escape(s.stdout()))
          .append("</pre></details>");
    }
    if (s.stderr() != null && !s.stderr().isEmpty()) {
      h.append("<details open><summary>program stderr (last bytes)</summary><pre>").append(Html.escape(s.stderr()))
          .append("</pre></details>");
    }
    h.append("</td></tr>\n</tbody>\n");
  }

  private static String data(SamplePages.PagePlan plan, int page) {
    ObjectNode root = JSON.createObjectNode();
    root.put("benchmark", plan.benchmark());
    root.put("page", page);
    root.put("pages", plan.pages());
    ArrayNode files = root.putArray("files");
    for (int p = 1; p <= plan.pages(); p++) {
      files.add(SampleIndex.fileName(plan.benchmark(), p));
    }
    ArrayNode subsets = root.putArray("subsets");
    plan.subsets().forEach(subsets::add);
    ObjectNode filters = root.putObject("filters");
    FILTERS.forEach((key, verdicts) -> {
      ArrayNode a = filters.putArray(key);
      verdicts.forEach(v -> a.add(v.key()));
    });
    ArrayNode counts = root.putArray("counts");
    for (Map<String, long[]> c : plan.counts()) {
      ObjectNode perSubset = counts.addObject();
      c.forEach((subset, n) -> {
        ArrayNode a = perSubset.putArray(subset);
        for (long x : n) {
          a.add(x);
        }
      });
    }
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, List<SampleVerdict>> filters() {
    Map<String, List<SampleVerdict>> f = new java.util.LinkedHashMap<>();
    f.put("all", List.of(SampleVerdict.values()));
    f.put("not-correct", List.of(SampleVerdict.WRONG, SampleVerdict.NO_ANSWER, SampleVerdict.FAILED));
    f.put("wrong", List.of(SampleVerdict.WRONG));
    f.put("no-answer", List.of(SampleVerdict.NO_ANSWER));
    f.put("failed", List.of(SampleVerdict.FAILED));
    f.put("correct", List.of(SampleVerdict.CORRECT));
    return f;
  }

  static String filterLabel(String key) {
    return switch (key) {
      case "all" -> "all samples";
      case "not-correct" -> "not correct (wrong, no answer, failed)";
      case "wrong" -> "wrong only";
      case "no-answer" -> "no answer only";
      case "failed" -> "generation failed only";
      case "correct" -> "correct only";
      default -> key;
    };
  }
}
