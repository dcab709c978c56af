-- wrk script: every request is a password login, POST /login with the CSRF token.
-- The orchestrator (run.py) fetches a CSRF cookie and its token once, then passes them:
--   wrk -s bench/login.lua ... URL -- EMAIL PASSWORD CSRF_COOKIE CSRF_TOKEN
-- A successful login answers 303; anything else shows in wrk's "Non-2xx or 3xx" line.

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local email, password, cookie, token = args[1], args[2], args[3], args[4]
  local body = "email=" .. urlencode(email) .. "&password=" .. urlencode(password)
    .. "&csrf_token=" .. urlencode(token) .. "&next=%2F"
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "hx_csrf=" .. cookie}
  login = wrk.format("POST", "/login", headers, body)
end

function request()
  return login
end
