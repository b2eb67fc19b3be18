-- Pandoc Lua filter for the Typst PDF of a report (analysis.reports.render).
-- 1. Cell outputs arrive as ```{=html} blocks: parse them with pandoc's HTML reader so
--    DataFrames become real tables and figures real figures. The reader runs sandboxed
--    (no file, no URL): it would otherwise fetch an <iframe src> and typeset the reply.
-- 2. Drop every other raw block/inline (e.g. a ```{=typst} block in a markdown cell), so
--    notebook text can never become Typst code.
-- 3. Right-align table columns whose body cells are all numbers (pandas' HTML carries
--    no alignment), as a table of figures should read; left-align the others.
-- 4. Keep only images that render.py wrote (fig-N.ext); any other image becomes its alt text,
--    because Typst would fail on a missing or remote file.
-- 5. A chart becomes a Typst figure with its alt text (pandoc's writer drops alt); the alt
--    text enters Typst only as an escaped string literal, its caption as pandoc's Typst.
-- 6. A short table is kept on one page: wrapped in an unbreakable block.
-- 7. A link to an anchor the document does not have becomes its text: Typst fails the whole
--    report on a label that does not exist.
-- 8. A run of more than 40 characters without a space gets an invisible break point every
--    20, so a long word or address wraps instead of pushing a table off the page.

local function is_html(format)
  return format == "html" or format == "html5"
end

local drop_raw = {
  RawBlock = function(_) return {} end,
  RawInline = function(_) return {} end,
}

-- A reader's table as data (analysis.outputs.TABLE_MIME): {"caption": "...", "columns":
-- [...], "rows": [[...], ...]}, every value a string, the first column naming each row.
-- Each string becomes words (Str and Space), never markup; anything of another shape is
-- dropped (render.py only writes checked data; a markdown cell could write anything).
local function strings(list, length)
  if type(list) ~= "table" or (length and #list ~= length) then return false end
  for _, v in ipairs(list) do
    if type(v) ~= "string" then return false end
  end
  return true
end

-- The table is written as pandoc's JSON and read back: building it with pandoc.Cell
-- and friends took half a millisecond a cell, the JSON reader a few for a whole table.
local json_string = pandoc.json.encode
local NOTHING = '["",[],[]]'

local function words(text)
  local out = {}
  for word in text:gmatch("%S+") do
    out[#out + 1] = '{"t":"Str","c":' .. json_string(word) .. '}'
  end
  return "[" .. table.concat(out, ',{"t":"Space"},') .. "]"
end

local function json_row(values)
  local cells = {}
  for i, value in ipairs(values) do
    cells[i] = "[" .. NOTHING .. ',{"t":"AlignDefault"},1,1,[{"t":"Plain","c":'
      .. words(value) .. "}]]"
  end
  return "[" .. NOTHING .. ",[" .. table.concat(cells, ",") .. "]]"
end

local function data_table(text)
  local ok, t = pcall(pandoc.json.decode, text, false)
  if not ok or type(t) ~= "table" or not strings(t.columns) or #t.columns == 0
      or type(t.rows) ~= "table" or (t.caption ~= nil and type(t.caption) ~= "string") then
    return {}
  end
  local rows, specs = {}, {}
  for i = 1, #t.columns do specs[i] = '[{"t":"AlignDefault"},{"t":"ColWidthDefault"}]' end
  for r, row in ipairs(t.rows) do
    if not strings(row, #t.columns) then return {} end
    rows[r] = json_row(row)
  end
  local caption = "[]"
  if t.caption and t.caption ~= "" then
    caption = '[{"t":"Plain","c":' .. words(t.caption) .. "}]"
  end
  local api = {}
  for i = 1, #PANDOC_API_VERSION do api[i] = tostring(PANDOC_API_VERSION[i]) end
  local doc = '{"pandoc-api-version":[' .. table.concat(api, ",") .. '],"meta":{},"blocks":['
    .. '{"t":"Table","c":[["",["figures"],[]],[null,' .. caption .. "],["
    .. table.concat(specs, ",") .. "],[" .. NOTHING .. ",[" .. json_row(t.columns) .. "]],"
    .. "[[" .. NOTHING .. ",1,[],[" .. table.concat(rows, ",") .. "]]],"
    .. "[" .. NOTHING .. ",[]]]}]}"
  return pandoc.read(doc, "json").blocks
end

local parse_html = {
  RawBlock = function(el)
    if el.format == "analysistable" then
      return data_table(el.text)
    end
    if is_html(el.format) then
      -- read_env {}: a sandbox in which no file is readable and nothing is fetched
      local blocks = pandoc.read(el.text, "html", nil, {}).blocks
      return pandoc.Div(blocks):walk(drop_raw).content
    end
    return {}
  end,
  RawInline = function(_) return {} end,
}

local keep_own_images = {
  Image = function(el)
    if el.src:match("^fig%-%d+%.%a+$") then
      return el
    end
    return pandoc.Emph(el.caption)
  end,
}

-- true: a number; nil: empty or a missing-value marker; false: text.
local missing = {[""] = true, ["nan"] = true, ["NaN"] = true, ["<NA>"] = true,
                 ["None"] = true, ["NaT"] = true, ["-"] = true, ["inf"] = true, ["-inf"] = true}
local function number_kind(text)
  text = text:gsub("^%s+", ""):gsub("%s+$", "")
  if missing[text] then return nil end
  local bare = text:gsub(",", ""):gsub("%%$", ""):gsub("^\u{2212}", "-")
  return tonumber(bare) ~= nil
end

local function align_numeric_columns(tbl)
  local ncols = #tbl.colspecs
  local numeric, seen = {}, {}
  for i = 1, ncols do numeric[i] = true; seen[i] = false end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      if #row.cells ~= ncols then return nil end
      for i, cell in ipairs(row.cells) do
        if cell.col_span ~= 1 or cell.row_span ~= 1 then return nil end
        local kind = number_kind(pandoc.utils.stringify(cell.contents))
        if kind == false then numeric[i] = false elseif kind then seen[i] = true end
      end
    end
  end
  local specs = tbl.colspecs
  for i = 1, ncols do
    if numeric[i] and seen[i] then
      specs[i] = {"AlignRight", specs[i][2]}
    elseif specs[i][1] == "AlignDefault" then
      -- pandoc wraps tables in align(center); "auto" would centre every cell.
      specs[i] = {"AlignLeft", specs[i][2]}
    end
  end
  tbl.colspecs = specs
  return tbl
end

-- a Typst string literal: no way out of the quotes, no control characters
local function typst_string(text)
  text = text:gsub("%c", " "):gsub("\\", "\\\\"):gsub('"', '\\"')
  return '"' .. text .. '"'
end

local SHORT_TABLE_ROWS = 14

-- A table cell's column name, repeated for phones (report.css); print has the header row.
keep_own_images.Span = function(el)
  if el.classes:includes("cell-label") then
    return {}
  end
  return nil
end

keep_own_images.Figure = function(fig)
  local img = nil
  local count = 0
  pandoc.Div(fig.content):walk({Image = function(el) img = el; count = count + 1 end})
  if count ~= 1 or not img.src:match("^fig%-%d+%.%a+$") then
    return nil
  end
  local alt = pandoc.utils.stringify(img.caption)
  local caption = pandoc.write(pandoc.Pandoc(fig.caption.long), "typst")
  return pandoc.RawBlock("typst", "#figure(image(\"" .. img.src .. "\", alt: "
    .. typst_string(alt) .. "), caption: [" .. caption .. "])")
end

keep_own_images.Table = function(tbl)
  tbl = align_numeric_columns(tbl) or tbl
  local rows = 0
  for _, body in ipairs(tbl.bodies) do rows = rows + #body.body end
  if rows <= SHORT_TABLE_ROWS then
    return {pandoc.RawBlock("typst", "#block(breakable: false)["), tbl,
            pandoc.RawBlock("typst", "]")}
  end
  return tbl
end

local ZWSP = "\u{200B}"
local LONG, EVERY = 40, 20

keep_own_images.Str = function(el)
  local length = utf8.len(el.text)
  if not length or length <= LONG then return nil end
  local out, n = {}, 0
  for _, code in utf8.codes(el.text) do
    out[#out + 1] = utf8.char(code)
    n = n + 1
    if n % EVERY == 0 and n < length then out[#out + 1] = ZWSP end
  end
  el.text = table.concat(out)
  return el
end

local function drop_dangling_links(doc)
  local ids = {}
  local function note(el)
    if el.identifier and el.identifier ~= "" then ids[el.identifier] = true end
  end
  doc:walk({Header = note, Div = note, Span = note, Figure = note, Table = note,
            CodeBlock = note, Image = note, Link = note})
  return doc:walk({
    Link = function(el)
      local anchor = el.target:match("^#(.*)$")
      if anchor and not ids[anchor] then return el.content end
    end,
  })
end

return {parse_html, keep_own_images, {Pandoc = drop_dangling_links}}
